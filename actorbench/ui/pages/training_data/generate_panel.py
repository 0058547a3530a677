"""The "✨ Generate Images" panel of the Training Data page."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from actorbench.generate import generate_images
from actorbench.present.html import h
from actorbench.present.words import plural
from actorbench.ui.mvc import PageModel
from actorbench.ui.state import AppState
from actorbench.ui.widgets.common import ErrorBox, Worker, esc, guarded


class GenerateView(w.VBox):
    def __init__(self, state: AppState, on_done: Callable[[], None] | None = None) -> None:
        self.state = state
        self.on_done = on_done
        self.model = PageModel()  # busy while generating; its error box
        self.errors = ErrorBox(self.model)
        self.worker = Worker(self.errors)
        self.backend = w.Dropdown(options=[("Augment (Pillow, offline)", "augment"),
                                           ("img2img (AUTOMATIC1111 API)", "img2img")],
                                  value="augment", description="Backend")
        self.count = w.BoundedIntText(value=4, min=1, max=100, description="How many")
        self.seed = w.IntText(value=0, description="Seed")
        self.size = w.Dropdown(options=[512, 768, 1024], value=1024, description="Size")
        self.strength = w.FloatSlider(value=0.45, min=0.1, max=0.9, step=0.05,
                                      description="Denoise")
        self.button = w.Button(description="✨ Generate Images", button_style="info",
                               layout=w.Layout(width="auto"))
        self.bar = w.IntProgress(value=0, max=1, description="Generating")
        self.bar.add_class("ab-generate-bar")
        self.message = w.HTML()
        self.message.add_class("ab-generate-message")
        self.hint = w.HTML()  # why the button is off, when it is
        self.hint.add_class("ab-generate-hint")
        self.available = False  # the actor shown can have images generated
        super().__init__([self.errors, self.hint, w.HBox([self.backend, self.count, self.seed]),
                          w.HBox([self.size, self.strength, self.button]),
                          w.HBox([self.bar, self.message])])
        self.add_class("ab-generate")
        self.button.on_click(guarded(self.errors)(lambda _: self.start()))
        self.set_available(False, "Choose an actor on the Library page first.")

    def reset(self) -> None:
        """Nothing said about the last run (another actor, a new action)."""
        self.message.value = ""
        self.bar.value, self.bar.max = 0, 1
        self.model.reset()

    def set_available(self, ok: bool, reason: str = "") -> None:
        """The button works only for an actor with a base image; the hint says why not."""
        self.available = ok
        self.button.disabled = not ok or self.worker.busy
        self.button.tooltip = "" if ok else reason
        self.hint.value = "" if ok else h("div", reason, cls="ab-hint")

    def start(self) -> bool:
        actor = self.state.actor
        if not actor or self.worker.busy:
            return False
        self.reset()
        self.button.disabled = True
        self.bar.value, self.bar.max = 0, self.count.value
        options = {"size": self.size.value}
        if self.backend.value == "img2img":
            options["denoising_strength"] = self.strength.value

        def progress(done: int, total: int) -> None:
            self.bar.value = done

        def job() -> None:
            r = generate_images(self.state.wb, actor, self.count.value, self.backend.value,
                                self.seed.value, options, progress)
            if self.state.actor != actor:
                return  # the page shows another actor now
            made = plural(len(r.indices), "image")
            self.message.value = (f'<span class="ab-ok">Generated {made} '
                                  f"(#{esc(', #'.join(map(str, r.indices)))}) in "
                                  f"{r.seconds:.1f} s; push them with Sync to S3.</span>")

        def done() -> None:
            self.button.disabled = not self.available
            if self.on_done:
                self.on_done()

        return self.worker.start(job, done)
