"""LoRA training: parameters and presets, auto-adjust, estimates, validation, RunPod, versions."""

from .estimate import GPU_PRICE_PER_S, Estimate, estimate
from .guidelines import GUIDELINES
from .params import PRESETS, Adjusted, TrainingParams, auto_adjust, make_params
from .runpod import RunPodClient, RunPodError
from .service import Prepared, TrainingService
from .status import ACTIVE, FINAL, STATES, JobStatus
from .validate import Finding, Validation, dhash, validate_dataset
from .versions import TrainingVersion, VersionStore

__all__ = ["ACTIVE", "FINAL", "GPU_PRICE_PER_S", "GUIDELINES", "PRESETS", "STATES", "Adjusted",
           "Estimate", "Finding", "JobStatus", "Prepared", "RunPodClient", "RunPodError",
           "TrainingParams", "TrainingService", "TrainingVersion", "Validation", "VersionStore",
           "auto_adjust", "dhash", "estimate", "make_params", "validate_dataset"]
