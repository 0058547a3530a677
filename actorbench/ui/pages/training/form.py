"""The Training page's parameter form: one widget per ``TrainingModel`` field, linked to it."""

from __future__ import annotations

import ipywidgets as w

from actorbench.present.html import esc
from actorbench.training import GPU_PRICE_PER_S, GUIDELINES, PRESETS
from actorbench.ui.pages.training.model import FIELDS, TrainingModel


class ParamsForm(w.VBox):
    """``form.repeats.value = 33`` sets ``model.repeats``, and the other way round."""

    def __init__(self, model: TrainingModel, footer: list[w.Widget]) -> None:
        m = model
        self.base_model = w.Dropdown(options=[(p.label, k) for k, p in PRESETS.items()],
                                     value=m.base_model, description="Base model")
        self.trigger = w.Text(value=m.trigger, description="Trigger")
        self.resolution = w.IntText(value=m.resolution, description="Resolution")
        self.unet_lr = w.FloatText(value=m.unet_lr, description="U-Net LR")
        self.te_lr = w.FloatText(value=m.te_lr, description="Text enc. LR")
        self.rank = w.IntText(value=m.rank, description="Rank")
        self.alpha = w.IntText(value=m.alpha, description="Alpha")
        self.batch = w.IntText(value=m.batch, description="Batch")
        self.repeats = w.IntText(value=m.repeats, description="Repeats")
        self.epochs = w.IntText(value=m.epochs, description="Epochs")
        self.steps = w.IntText(value=m.steps, description="Steps")
        self.gpu = w.Dropdown(options=list(GPU_PRICE_PER_S), value=m.gpu, description="GPU")
        for name in FIELDS:
            w.link((m, name), (getattr(self, name), "value"))
        super().__init__([*(getattr(self, name) for name in FIELDS), w.HBox(footer)])


def guidelines() -> w.Accordion:
    """The face-training guidelines, folded."""
    return w.Accordion(children=[w.HTML(
        "<ul>" + "".join(f"<li><b>{esc(t)}</b>: {esc(d)}</li>" for t, d in GUIDELINES)
        + "</ul>")], titles=["Face-training guidelines"])
