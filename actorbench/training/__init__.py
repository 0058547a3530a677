"""LoRA training: parameters and presets, auto-adjust, estimates, validation, RunPod, versions."""

# names are imported on first use (PEP 562): the dashboard's kernel needs only ``status`` at
# start, and requests, pydantic and the presets cost ~0.1 s of every page's kernel start
from importlib import import_module
from typing import TYPE_CHECKING, Any

# (imported now: the function ``estimate`` shares its name with its module, and importing
# ``actorbench.training.estimate`` later would set this package's ``estimate`` to the module)
from .estimate import GPU_PRICE_PER_S, Estimate, estimate

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


def __getattr__(name: str) -> Any:
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # once: later lookups do not come here
    return value


__all__ = ["ACTIVE", "FINAL", "GPU_PRICE_PER_S", "GUIDELINES", "PRESETS", "STATES", "Adjusted",
           "Estimate", "Finding", "JobStatus", "Prepared", "RunPodClient", "RunPodError",
           "TrainingParams", "TrainingService", "TrainingVersion", "Validation", "VersionStore",
           "auto_adjust", "dhash", "estimate", "make_params", "validate_dataset"]
