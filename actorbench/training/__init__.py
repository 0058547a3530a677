"""LoRA training: parameters and presets, auto-adjust, estimates, validation, RunPod, versions."""

# names are imported on first use (PEP 562): the dashboard's kernel needs only ``status`` at
# start, and requests, pydantic and the presets cost ~0.1 s of every page's kernel start
from typing import TYPE_CHECKING

from .._lazy import lazy
from .estimates import GPU_PRICE_PER_S, Estimate, estimate

if TYPE_CHECKING:
    from .guidelines import GUIDELINES
    from .params import PRESETS, Adjusted, TrainingParams, auto_adjust, make_params
    from .runpod import RunPodClient, RunPodError
    from .service import Prepared, TrainingService
    from .status import ACTIVE, FINAL, STATES, JobStatus
    from .validate import Finding, Validation, dhash, validate_dataset
    from .versions import TrainingVersion, VersionStore

_WHERE = {
    "GUIDELINES": "guidelines",
    "PRESETS": "params", "Adjusted": "params", "TrainingParams": "params",
    "auto_adjust": "params", "make_params": "params",
    "RunPodClient": "runpod", "RunPodError": "runpod",
    "Prepared": "service", "TrainingService": "service",
    "ACTIVE": "status", "FINAL": "status", "STATES": "status", "JobStatus": "status",
    "Finding": "validate", "Validation": "validate", "dhash": "validate",
    "validate_dataset": "validate",
    "TrainingVersion": "versions", "VersionStore": "versions",
}

__getattr__, _ = lazy(__name__, {name: f".{module}" for name, module in _WHERE.items()})


__all__ = ["ACTIVE", "FINAL", "GPU_PRICE_PER_S", "GUIDELINES", "PRESETS", "STATES", "Adjusted",
           "Estimate", "Finding", "JobStatus", "Prepared", "RunPodClient", "RunPodError",
           "TrainingParams", "TrainingService", "TrainingVersion", "Validation", "VersionStore",
           "auto_adjust", "dhash", "estimate", "make_params", "validate_dataset"]
