"""Team mode's row of the doctor: off, on, and whether the server refuses stale writes."""

from __future__ import annotations

from ..errors import ActorbenchError
from ..settings import Settings
from .checks import CONFIG, FAIL, OK, WARN, Check


def team_check(s: Settings, write: bool, reachable: bool = True) -> Check:
    """Team mode: off, on (where the shared state lives), and with ``write``, whether the
    server refuses stale writes (the probe team mode runs before its first shared write)."""
    if not s.team:
        return Check("team", OK, "off: this workstation works alone (ACTORBENCH_TEAM=1 shares "
                                 "ledgers, marks and parameters in the bucket)")
    where = f"s3://{s.bucket}/{s.team_prefix}/"
    if not write:
        return Check("team", OK, f"on: shared state under {where} (run with --write to check "
                                 "that the server refuses stale writes)")
    if not reachable:
        return Check("team", WARN, "on: not probed (fix the failures above first)")
    from ..team.probe import check_conditional_writes
    from ..workbench import Workbench

    try:
        check_conditional_writes(Workbench(s).store, s.team_prefix, s.endpoint_url or "AWS S3")
    except ActorbenchError as exc:
        return Check("team", FAIL, " ".join(str(exc).split()),
                     "Use a server that honours If-Match / If-None-Match, or unset "
                     "ACTORBENCH_TEAM.", CONFIG)
    return Check("team", OK, f"on: shared state under {where}; the server refuses stale "
                             "writes (If-Match / If-None-Match)")
