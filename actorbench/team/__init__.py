"""Team mode: several workstations on one bucket, no lost update and no double launch.

The per-actor training ledgers, the "mark as good" choices, new actors and the saved training
parameters live in the bucket under ``Settings.team_prefix`` as JSON documents, written with
compare-and-swap (``If-Match``); the local files become a cache. ``merge`` holds the rules that
make re-applying a change after a lost race safe; ``probe`` refuses servers that ignore write
conditions. The ``Team`` object itself is in ``team.shared`` (imported by the workbench when
``ACTORBENCH_TEAM=1``).
"""

from typing import Any

from ..clock import stamp
from ..settings import Who


def who_of(settings: Any) -> Who:
    """``settings.who`` (kept for callers of the old ``team.identity.who_of``)."""
    return settings.who


__all__ = ["Who", "stamp", "who_of"]
