"""Duration and cost before launch: seconds per step by model, resolution and GPU; RunPod prices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .params import TrainingParams

#: RunPod serverless flex prices, USD per second (runpod/docs serverless GPU pricing table)
GPU_PRICE_PER_S = {"RTX 4090": 0.00031, "A6000": 0.00034, "L40S": 0.00053, "A100": 0.00076,
                   "H100": 0.00116}

#: rough seconds per step at batch 1 and the preset's resolution; measured figures vary
#: ±30% with optimizer, caching and gradient checkpointing, so the estimate says so.
SEC_PER_STEP = {
    "sd15": {"RTX 4090": 0.25, "A6000": 0.35, "L40S": 0.22, "A100": 0.18, "H100": 0.12},
    "sdxl": {"RTX 4090": 0.90, "A6000": 1.30, "L40S": 0.80, "A100": 0.70, "H100": 0.45},
    "flux1-dev": {"RTX 4090": 2.2, "A6000": 3.0, "L40S": 1.9, "A100": 1.5, "H100": 0.95},
}
STARTUP_S = {"sd15": 60.0, "sdxl": 90.0, "flux1-dev": 180.0}
BASE_RES = {"sd15": 512, "sdxl": 1024, "flux1-dev": 1024}


@dataclass(frozen=True)
class Estimate:
    seconds: float
    cost_usd: float
    sec_per_step: float
    startup_s: float
    gpu: str
    calibrated_runs: int = 0  # past runs the seconds per step come from (0: the table)

    @property
    def execution_timeout_ms(self) -> int:
        """Generous: twice the estimate plus ten minutes (RunPod's default is 10 minutes)."""
        return int((self.seconds * 2 + 600) * 1000)

    def describe(self) -> str:
        m, s = divmod(int(self.seconds), 60)
        return (f"≈ {m} min {s:02d} s on {self.gpu} ({self.sec_per_step:.2f} s/step + "
              f"{self.startup_s:.0f} s start-up) ≈ ${self.cost_usd:.2f}; "
              + (f"calibrated from {self.calibrated_runs} past run"
                 f"{'s' if self.calibrated_runs != 1 else ''}" if self.calibrated_runs
                 else "rough, ±30%"))


#: past runs' measured seconds per step: (base model, GPU) -> (seconds, runs)
Calibration = dict[tuple[str, str], tuple[float, int]]


def estimate(params: TrainingParams, gpu: str | None = None,
             calibration: Calibration | None = None) -> Estimate:
    """Seconds and dollars for ``params``; once past runs on this model and GPU are known
    (``reports.training.calibration``), their median seconds per step replaces the table's."""
    gpu = gpu or params.gpu
    if gpu not in GPU_PRICE_PER_S:
        from ..errors import ActorbenchError

        raise ActorbenchError(f"Unknown GPU {gpu!r}: choose one of {', '.join(GPU_PRICE_PER_S)}.")
    measured = (calibration or {}).get((params.base_model, gpu))
    base = measured[0] if measured else SEC_PER_STEP[params.base_model][gpu]
    scale = (params.resolution / BASE_RES[params.base_model]) ** 2
    per_step = base * scale * params.batch_size ** 0.85
    seconds = STARTUP_S[params.base_model] + per_step * params.max_train_steps
    return Estimate(seconds, seconds * GPU_PRICE_PER_S[gpu], per_step,
                    STARTUP_S[params.base_model], gpu, measured[1] if measured else 0)
