"""Sync: plan (a pure diff) -> apply (concurrent, verified transfers) -> summary."""

from .engine import SyncEngine, conflict_path, parse_only
from .manifest import Manifest, ManifestEntry
from .plan import LABELS, ActorPlan, Change, ImageStatus, plan_actor
from .progress import ProgressCallback, ProgressEvent, ProgressRecorder, no_progress
from .summary import SyncSummary

__all__ = ["LABELS", "ActorPlan", "Change", "ImageStatus", "Manifest", "ManifestEntry",
           "ProgressCallback", "ProgressEvent", "ProgressRecorder", "SyncEngine",
           "SyncSummary", "conflict_path", "no_progress", "parse_only", "plan_actor"]
