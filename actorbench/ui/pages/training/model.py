"""The Training page's model: the form's values as traits, and what the page last prepared."""

from __future__ import annotations

from typing import Any

import traitlets as t

from actorbench.training import (
    GPU_PRICE_PER_S,
    PRESETS,
    JobStatus,
    TrainingParams,
    TrainingVersion,
    make_params,
)
from actorbench.ui.mvc import PageModel

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


class VersionsModel(t.HasTraits):
    """Which completed versions the preview and the compare view show, by id.

    Usage::

        model.offer(versions)             # the completed ones become the choices (newest first)
        model.chosen = versions[0].id     # previewed; "Mark as good" marks it
        model.left, model.right = a.id, b.id
        model.pair()                      # (a, b) side by side, or None and why not
    """

    choices = t.List(t.Tuple(t.Unicode(), t.Unicode()))  # (label, id), newest first
    chosen = t.Unicode("")  # previewed (and marked good by the preview's button)
    left = t.Unicode("")  # compared side by side ("" for none)
    right = t.Unicode("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.versions: dict[str, TrainingVersion] = {}
        self.picked: set[str] = set()  # traits a person chose: kept while they can be

    @t.validate("chosen", "left", "right")
    def _valid_id(self, proposal: dict[str, Any]) -> str:
        value = proposal["value"]
        if value and value not in {vid for _, vid in self.choices}:
            raise t.TraitError(f"No completed version {value!r} to show.")
        return value

    def choose(self, trait: str, version_id: str) -> None:
        """A person's choice (``"chosen"``, ``"left"`` or ``"right"``): a new version does
        not take its place."""
        setattr(self, trait, version_id)
        self.picked.add(trait)

    def offer(self, versions: list[TrainingVersion], label: Any = None) -> None:
        """The completed versions become the choices. What a person chose stays while it is
        one; else the newest is previewed and the two newest are compared (older left)."""
        done = [v for v in reversed(versions) if v.status == JobStatus.COMPLETED]
        name = label or (lambda v: v.name)
        ids = [v.id for v in done]
        with self.hold_trait_notifications():
            self.versions = {v.id: v for v in done}
            self.choices = [(str(name(v)), v.id) for v in done]
            if not ("chosen" in self.picked and self.chosen in ids):
                self.chosen = ids[0] if ids else ""
                self.picked.discard("chosen")
            if not ({"left", "right"} & self.picked and self.left in ids
                    and self.right in ids):
                self.left = ids[1] if len(ids) > 1 else ""
                self.right = ids[0] if len(ids) > 1 else ""
                self.picked -= {"left", "right"}

    def previewed(self) -> TrainingVersion | None:
        return self.versions.get(self.chosen)

    def pair(self) -> tuple[TrainingVersion, TrainingVersion] | None:
        """The two versions to compare: both chosen, and not the same one."""
        a, b = self.versions.get(self.left), self.versions.get(self.right)
        return (a, b) if a is not None and b is not None and a.id != b.id else None

    def why_no_pair(self) -> str:
        if len(self.choices) < 2:
            return "Two completed versions are needed to compare (there is " + (
                "one)." if self.choices else "none yet).")
        if self.left == self.right and self.left:
            return "Choose two different versions."
        return "Choose two versions."
