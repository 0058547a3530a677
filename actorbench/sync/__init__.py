"""Sync: plan (a pure diff) -> decide (a value) -> apply (concurrent, verified) -> summary.

Names are imported on first use (PEP 562, ``actorbench._lazy``): ``actorbench status`` plans
without importing ``apply`` and ``transfer``, and ``from actorbench.sync.files import x`` does
not import the whole package.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from .._lazy import lazy

#: public name -> the module that defines it
_WHERE = {
    "conflict_path": ".apply",
    "SyncConfig": ".config",
    **dict.fromkeys(("Action", "Direction", "Prefer", "Transfer", "Transfers", "action_for",
                     "decide"), ".decide"),
    "SyncEngine": ".engine",
    "Manifest": ".manifest", "ManifestEntry": ".manifest",
    **dict.fromkeys(("LABELS", "ActorPlan", "Change", "FileKind", "ImageStatus", "plan_actor"),
                    ".plan"),
    **dict.fromkeys(("ProgressCallback", "ProgressEvent", "ProgressKind", "ProgressRecorder",
                     "no_progress"), ".progress"),
    "format_only": ".selection", "parse_only": ".selection",
    "SyncSummary": ".summary",
}

if TYPE_CHECKING:
    from .apply import conflict_path
    from .config import SyncConfig
    from .decide import Action, Direction, Prefer, Transfer, Transfers, action_for, decide
    from .engine import SyncEngine
    from .manifest import Manifest, ManifestEntry
    from .plan import LABELS, ActorPlan, Change, FileKind, ImageStatus, plan_actor
    from .progress import (
        ProgressCallback,
        ProgressEvent,
        ProgressKind,
        ProgressRecorder,
        no_progress,
    )
    from .selection import format_only, parse_only
    from .summary import SyncSummary

__all__ = ["LABELS", "Action", "ActorPlan", "Change", "Direction", "FileKind", "ImageStatus",
           "Manifest", "ManifestEntry", "Prefer", "ProgressCallback", "ProgressEvent",
           "ProgressKind", "ProgressRecorder", "SyncConfig", "SyncEngine", "SyncSummary",
           "Transfer", "Transfers", "action_for", "conflict_path", "decide", "format_only",
           "no_progress", "parse_only", "plan_actor"]

__getattr__, __dir__ = lazy(__name__, _WHERE)


class _Package(types.ModuleType):
    """``actorbench.sync.decide`` is the function, as it was when this package imported its
    modules eagerly: the import system binds a submodule to its name on the package once it
    is loaded, and the submodule ``decide`` would otherwise hide the function ``decide``."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "decide" and isinstance(value, types.ModuleType):
            value = value.decide
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
