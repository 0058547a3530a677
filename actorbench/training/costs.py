"""What training runs cost and how long they took: RunPod's measured seconds at the GPU's price,
and the seconds per step measured from past runs that calibrate the next estimates."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from typing import Any

from .estimates import BASE_RES, GPU_PRICE_PER_S, STARTUP_S
from .status import JobStatus
from .versions import TrainingVersion


def actual_seconds(v: TrainingVersion) -> float | None:
    """RunPod's executionTime for the job, in seconds (None until RunPod has reported it)."""
    ms = (v.timings or {}).get("execution_ms")
    return float(ms) / 1000 if isinstance(ms, int | float) and ms > 0 else None


def gpu_of(v: TrainingVersion) -> str:
    return str((v.estimate or {}).get("gpu") or (v.parameters or {}).get("gpu") or "")


def actual_cost(v: TrainingVersion) -> float | None:
    """What RunPod bills: execution seconds at the GPU's per-second price."""
    secs, price = actual_seconds(v), GPU_PRICE_PER_S.get(gpu_of(v))
    return round(secs * price, 4) if secs is not None and price is not None else None


def calibration(versions: Iterable[TrainingVersion]) -> dict[tuple[str, str], tuple[float, int]]:
    """Seconds per step, at the preset's resolution and batch 1, per (base model, GPU): the
    median over completed runs, with how many runs it rests on."""
    seen: dict[tuple[str, str], list[float]] = {}
    for v in versions:
        if str(v.status) != JobStatus.COMPLETED:
            continue
        p = v.parameters or {}
        secs, model, steps = actual_seconds(v), p.get("base_model"), p.get("max_train_steps")
        if secs is None or model not in STARTUP_S or not steps:
            continue
        scale = (p.get("resolution", BASE_RES[model]) / BASE_RES[model]) ** 2 \
            * p.get("batch_size", 1) ** 0.85
        per_step = max(secs - STARTUP_S[model], 0.0) / steps / scale
        if per_step > 0:
            seen.setdefault((model, gpu_of(v)), []).append(per_step)
    return {k: (statistics.median(v), len(v)) for k, v in seen.items()}


def _versions_of(raw: Any) -> list[TrainingVersion]:
    items = raw.get("versions") if isinstance(raw, dict) else None
    out = []
    for x in items if isinstance(items, list) else []:
        try:
            out.append(TrainingVersion.from_dict(x))
        except (TypeError, ValueError, AttributeError):
            continue  # a hand-edited entry missing its fields: not worth a failed report
    return out


def all_local_versions(layout: Any) -> list[TrainingVersion]:
    """Every version in ``actor_training_versions/`` (for calibrating estimates)."""
    folder = layout.data_dir / "actor_training_versions"
    out: list[TrainingVersion] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            out += _versions_of(json.loads(path.read_text()))
        except (OSError, ValueError, RecursionError):
            continue
    return out
