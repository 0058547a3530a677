"""Sync: plan (a pure diff) -> decide (a value) -> apply (concurrent, verified) -> summary."""

from .apply import conflict_path
from .config import SyncConfig
from .decide import Action, Direction, Prefer, Transfer, Transfers, action_for, decide
from .engine import SyncEngine
from .manifest import Manifest, ManifestEntry
from .plan import LABELS, ActorPlan, Change, FileKind, ImageStatus, plan_actor
from .progress import ProgressCallback, ProgressEvent, ProgressKind, ProgressRecorder, no_progress
from .selection import format_only, parse_only
from .summary import SyncSummary

__all__ = ["LABELS", "Action", "ActorPlan", "Change", "Direction", "FileKind", "ImageStatus",
           "Manifest", "ManifestEntry", "Prefer", "ProgressCallback", "ProgressEvent",
           "ProgressKind", "ProgressRecorder", "SyncConfig", "SyncEngine", "SyncSummary",
           "Transfer", "Transfers", "action_for", "conflict_path", "decide", "format_only",
           "no_progress", "parse_only", "plan_actor"]
