"""What every `actorbench` command is handed and shares: a ``CliContext`` (the global options,
the workbench built from them on first use), output, and the exit.

No module-level state: ``main`` builds one context per call and passes it to the command.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ActorbenchError
from ..terminal import inert

if TYPE_CHECKING:
    from ..settings import Settings
    from ..workbench import Workbench

WORKERS_HELP = ("At most N transfers at once (default: 128 connections for downloads, 32 "
                "threads for the rest; ACTORBENCH_CONNECTIONS, ACTORBENCH_WORKERS).")


class Exit(Exception):  # like typer.Exit: leave with a code, nothing to print
    def __init__(self, code: int) -> None:
        self.code = code


@dataclass
class CliContext:
    """The global options (``--data-dir``, ``--bucket`` ..., ``--workers``) of one call.

    Usage::

        def status(a: argparse.Namespace, ctx: CliContext) -> None:
            wb = ctx.workbench()
    """

    overrides: dict[str, Any] = field(default_factory=dict)

    def settings(self, workers: int | None = None, env: dict[str, str] | None = None
                 ) -> Settings:
        """Settings from the environment and .env, with the options over them; ``workers``
        (a command's own ``--workers``) over the global one."""
        from ..settings import Settings

        overrides = {k: v for k, v in self.overrides.items() if k != "workers"}
        glob = self.overrides.get("workers")
        workers = workers if workers is not None else glob
        settings = Settings.from_env(env=env).with_overrides(**overrides)
        if workers is not None:  # "at most N transfers at once", whichever path it takes
            settings = settings.with_overrides(workers=min(workers, 256),
                                               connections=min(workers, 512))
        return settings

    def workbench(self, workers: int | None = None) -> Workbench:
        from ..workbench import Workbench

        return Workbench(self.settings(workers))


def echo(text: str, err: bool = False) -> None:
    """Print a block of lines; whatever a file, a server or the bucket put in it stays text."""
    print(inert(text, keep="\n"), file=sys.stderr if err else sys.stdout, flush=True)


def actor_names(wb: Workbench, actors: list[str] | None, all_: bool) -> list[str]:
    if not actors and not all_:
        raise ActorbenchError("Name at least one actor (name or id), or pass --all.")
    return [a.name for a in wb.registry.resolve(actors or [], all_)]


def emit(result: dict[str, Any] | list[Any], as_json: bool, human: str) -> None:
    echo(json.dumps(result, indent=2) if as_json else human)
