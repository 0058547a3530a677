"""LoRA parameters with per-base-model presets, auto-adjusted to the image count."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ActorbenchError
from .vocab import OPTIMIZERS

#: the names in ``vocab.BASE_MODELS`` (a Literal for the type checker; a test keeps them equal)
BaseModelName = Literal["sd15", "sdxl", "flux1-dev"]
OptimizerName = Literal["AdamW8bit", "AdamW", "Adafactor"]
SchedulerName = Literal["constant", "constant_with_warmup", "cosine", "cosine_with_restarts",
                        "linear"]


@dataclass(frozen=True)
class Preset:
    """Face-LoRA defaults per base model (see TRAINING-NOTES: kohya, Civitai, ai-toolkit)."""

    label: str
    resolution: int
    unet_lr: float
    text_encoder_lr: float
    rank: int
    alpha: int
    batch_size: int
    epochs: int
    min_steps: int
    max_steps: int
    target_steps: int
    optimizer: str
    scheduler: str
    noise_offset: float


PRESETS: dict[str, Preset] = {
    "sd15": Preset("Stable Diffusion 1.5", 512, 1e-4, 5e-5, 32, 16, 2, 10, 800, 2000, 1500,
                   "AdamW8bit", "cosine_with_restarts", 0.05),
    "sdxl": Preset("SDXL 1.0", 1024, 1e-4, 0.0, 32, 16, 2, 10, 500, 3000, 1500, "AdamW8bit",
                   "cosine", 0.0357),
    "flux1-dev": Preset("Flux.1-dev", 1024, 1e-4, 0.0, 16, 16, 1, 10, 500, 4000, 1500,
                        "AdamW8bit", "constant", 0.0),
}


class TrainingParams(BaseModel):
    """What the worker needs; invalid values are refused with a message per field."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    base_model: BaseModelName = "sdxl"
    trigger_word: str = Field("ohwx person", min_length=2, max_length=64)
    resolution: int = Field(1024, ge=256, le=2048, multiple_of=64)
    unet_lr: float = Field(1e-4, gt=0, le=1e-2)
    text_encoder_lr: float = Field(0.0, ge=0, le=1e-2)
    network_rank: int = Field(32, ge=1, le=256)
    network_alpha: int = Field(16, ge=1, le=256)
    batch_size: int = Field(2, ge=1, le=16)
    repeats: int = Field(10, ge=1, le=5000)
    epochs: int = Field(10, ge=1, le=1000)
    max_train_steps: int = Field(1500, ge=50, le=10000)
    lr_scheduler: SchedulerName = "cosine"
    optimizer: OptimizerName = "AdamW8bit"
    noise_offset: float = Field(0.0357, ge=0, le=0.5)
    flip_aug: bool = False
    gpu: str = "L40S"

    @field_validator("flip_aug")
    @classmethod
    def _no_flip(cls, v: bool) -> bool:
        if v:
            raise ValueError("must stay off for faces: a face is not symmetric, and a mirrored "
                             "face teaches the model the wrong identity")
        return v

    @field_validator("optimizer", mode="before")
    @classmethod
    def _optimizer_spelling(cls, v: object) -> object:
        """sd-scripts matches optimizer names case-insensitively: parameters saved with
        another spelling (the Flux preset once said "adamw8bit") keep working."""
        if isinstance(v, str):
            return next((name for name in OPTIMIZERS if name.lower() == v.lower()), v)
        return v

    @field_validator("trigger_word")
    @classmethod
    def _trigger(cls, v: str) -> str:
        if not v.strip() or any(c in v for c in "\n\r\t,"):
            raise ValueError("must be a short phrase without commas or line breaks")
        return v.strip()

    @field_validator("network_alpha")
    @classmethod
    def _alpha(cls, v: int, info) -> int:
        rank = info.data.get("network_rank")
        if rank is not None and v > rank:
            raise ValueError(f"must not exceed the rank ({rank})")
        return v

    @classmethod
    def from_preset(cls, base_model: str, **overrides: object) -> TrainingParams:
        p = PRESETS[base_model]
        values = dict(base_model=base_model, resolution=p.resolution, unet_lr=p.unet_lr,
                      text_encoder_lr=p.text_encoder_lr, network_rank=p.rank,
                      network_alpha=p.alpha, batch_size=p.batch_size, epochs=p.epochs,
                      max_train_steps=p.target_steps, optimizer=p.optimizer,
                      lr_scheduler=p.scheduler, noise_offset=p.noise_offset)
        values.update(overrides)
        return make_params(**values)

    @property
    def preset(self) -> Preset:
        return PRESETS[self.base_model]


def make_params(**values: object) -> TrainingParams:
    """Build parameters; a bad value raises one ``ActorbenchError`` listing each field."""
    try:
        return TrainingParams(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ActorbenchError(explain(exc)) from None


def explain(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        field = ".".join(str(x) for x in e["loc"]) or "parameters"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown parameter (not one actorbench sends to the trainer)"
        parts.append(f"{field}: {msg}")
    return "Invalid training parameters: " + "; ".join(parts) + "."


@dataclass(frozen=True)
class Adjusted:
    params: TrainingParams
    formula: str


def auto_adjust(params: TrainingParams, images: int) -> Adjusted:
    """Repeats, epochs and steps from the image count, kept in the preset's step range.

    repeats = max(1, ceil(200 / images))   (Civitai's rule)
    steps   = ceil(images * repeats / batch) * epochs   (kohya's rule)
    epochs  = chosen so steps land nearest the preset's target, within [min, max].
    """
    if images < 1:
        raise ActorbenchError("Auto-adjust needs at least one training image.")
    p = params.preset
    repeats = max(1, min(5000, math.ceil(200 / images)))
    per_epoch = math.ceil(images * repeats / params.batch_size)
    epochs = max(1, round(p.target_steps / per_epoch))
    while per_epoch * epochs > p.max_steps and epochs > 1:
        epochs -= 1
    while per_epoch * epochs < p.min_steps:
        epochs += 1
    steps = per_epoch * epochs
    clamped = ""
    if steps > p.max_steps:  # one epoch is already too long: cap the steps instead
        steps, clamped = p.max_steps, f", capped at the preset's maximum {p.max_steps}"
    formula = (f"repeats = max(1, ceil(200 / {images})) = {repeats}; "
               f"steps = ceil({images} × {repeats} / batch {params.batch_size}) × "
               f"{epochs} epochs = {per_epoch} × {epochs} = {per_epoch * epochs}{clamped} "
               f"(preset range {p.min_steps}–{p.max_steps}, target {p.target_steps})")
    new = params.model_copy(update={"repeats": repeats, "epochs": epochs,
                                    "max_train_steps": steps})
    return Adjusted(make_params(**new.model_dump()), formula)
