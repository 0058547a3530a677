"""The Training page's model: the form's values as traits, and what the page last prepared."""

from __future__ import annotations

from typing import Any

import traitlets as t

from ..training import GPU_PRICE_PER_S, PRESETS, TrainingParams, make_params
from .background import PageModel

DEFAULT_MODEL = "sdxl"
DEFAULT_GPU = "L40S"
#: trait -> the ``TrainingParams`` field it holds (the form uses shorter names)
FIELDS = {"base_model": "base_model", "trigger": "trigger_word", "resolution": "resolution",
          "unet_lr": "unet_lr", "te_lr": "text_encoder_lr", "rank": "network_rank",
          "alpha": "network_alpha", "batch": "batch_size", "repeats": "repeats",
          "epochs": "epochs", "steps": "max_train_steps", "gpu": "gpu"}


class TrainingModel(PageModel):
    """One trait per form field. Choosing a base model loads its preset into the others;
    ``params()`` validates the whole form (one message naming each bad field).

    Usage::

        model.base_model = "sd15"        # resolution, rates, rank, ... follow the preset
        model.show(service.last_params(name))
        model.params()                    # TrainingParams, or ActorbenchError
    """

    actor = t.Unicode("")  # whose training the page shows
    base_model = t.Enum(list(PRESETS), default_value=DEFAULT_MODEL)
    trigger = t.Unicode("ohwx person")
    resolution = t.Int(PRESETS[DEFAULT_MODEL].resolution)
    unet_lr = t.Float(PRESETS[DEFAULT_MODEL].unet_lr)
    te_lr = t.Float(PRESETS[DEFAULT_MODEL].text_encoder_lr)
    rank = t.Int(PRESETS[DEFAULT_MODEL].rank)
    alpha = t.Int(PRESETS[DEFAULT_MODEL].alpha)
    batch = t.Int(PRESETS[DEFAULT_MODEL].batch_size)
    repeats = t.Int(10)
    epochs = t.Int(PRESETS[DEFAULT_MODEL].epochs)
    steps = t.Int(PRESETS[DEFAULT_MODEL].target_steps)
    gpu = t.Enum(list(GPU_PRICE_PER_S), default_value=DEFAULT_GPU)
    #: team mode: bumped by ``team.watch.TeamWatch`` when another workstation changed a shared
    #: ledger, mark or parameters; the view reloads the versions table when it changes
    team_changes = t.Int(0)

    @t.observe("base_model")
    def _on_base_model(self, change: dict[str, Any]) -> None:
        """What ``TrainingParams.from_preset`` gives, the trigger word kept."""
        p, defaults = PRESETS[change["new"]], TrainingParams.model_fields
        self.resolution, self.unet_lr, self.te_lr = p.resolution, p.unet_lr, p.text_encoder_lr
        self.rank, self.alpha, self.batch = p.rank, p.alpha, p.batch_size
        self.epochs, self.steps = p.epochs, p.target_steps
        self.repeats, self.gpu = defaults["repeats"].default, defaults["gpu"].default

    def params(self) -> TrainingParams:
        """The form as ``TrainingParams``; ``ActorbenchError`` lists every invalid field."""
        preset = PRESETS[self.base_model]
        return make_params(**{field: getattr(self, name) for name, field in FIELDS.items()},
                           lr_scheduler=preset.scheduler, optimizer=preset.optimizer,
                           noise_offset=preset.noise_offset)

    def show(self, p: TrainingParams) -> None:
        """Put ``p`` in the form. The base model goes first: its preset is then overwritten
        by ``p``'s own values, field by field."""
        self.base_model = p.base_model
        for name, field in FIELDS.items():
            setattr(self, name, getattr(p, field))

    def reset(self) -> None:
        self.show(TrainingParams.from_preset(DEFAULT_MODEL))
        super().reset()
