"""What every `actorbench` command shares: overrides from the global options, output, exit."""

from __future__ import annotations

import json
import sys
from typing import Any

from .errors import ActorbenchError
from .settings import Settings
from .terminal import inert
from .workbench import Workbench

STATE: dict[str, Any] = {}
WORKERS_HELP = ("At most N transfers at once (default: 128 connections for downloads, 32 "
                "threads for the rest; ACTORBENCH_CONNECTIONS, ACTORBENCH_WORKERS).")


class Exit(Exception):  # like typer.Exit: leave with a code, nothing to print
    def __init__(self, code: int) -> None:
        self.code = code


def echo(text: str, err: bool = False) -> None:
    """Print a block of lines; whatever a file, a server or the bucket put in it stays text."""
    print(inert(text, keep="\n"), file=sys.stderr if err else sys.stdout, flush=True)


def _wb(workers: int | None = None) -> Workbench:
    overrides = dict(STATE.get("overrides", {}))
    glob = overrides.pop("workers", None)
    workers = workers if workers is not None else glob
    settings = Settings.from_env().with_overrides(**overrides)
    if workers is not None:  # "at most N transfers at once", whichever path it takes
        settings = settings.with_overrides(workers=min(workers, 256),
                                           connections=min(workers, 512))
    return Workbench(settings)


def _names(wb: Workbench, actors: list[str] | None, all_: bool) -> list[str]:
    if not actors and not all_:
        raise ActorbenchError("Name at least one actor (name or id), or pass --all.")
    return [a.name for a in wb.registry.resolve(actors or [], all_)]


def _emit(result: dict[str, Any] | list[Any], as_json: bool, human: str) -> None:
    echo(json.dumps(result, indent=2) if as_json else human)
