"""The Training Data page: base image, grid with status badges, sync with live progress.

What the page says is about the actor it shows: choosing another actor, ↻ Refresh and the end
of an action clear or replace every message, preview and bar; before a sync, the decision
(``actorbench.sync.decide``) says what it would do to the picked images.

Longer than 300 lines: the grid, preview, header, sync, captions, generate and face badges are
their own modules; what is left is drawing one actor into them and the sync's live progress.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import ipywidgets as w

from actorbench.present.html import h
from actorbench.present.progress import TransferMeter
from actorbench.sync.decide import Direction, Transfers, decide
from actorbench.sync.plan import ActorPlan, Change
from actorbench.ui.mvc import run_in_background
from actorbench.ui.pages.training_data.face_badges import faces_of_grid
from actorbench.ui.pages.training_data.header import (
    decision_html,
    plan_header_html,
    unrecognised_html,
)
from actorbench.ui.pages.training_data.image_grid import ImageGrid
from actorbench.ui.pages.training_data.model import TrainingDataModel
from actorbench.ui.pages.training_data.preview import PreviewPanel
from actorbench.ui.pages.training_data.sync_panel import SyncActions
from actorbench.ui.pages.training_data.tiles import ImageTile, tile_thumb_px
from actorbench.ui.state import AppState
from actorbench.ui.widgets.common import (
    BASE_CSS_PX,
    ErrorBox,
    Worker,
    base_image_html,
    classed,
    empty_state,
    guarded,
    resized,
)

#: tiles built with the page (an actor has ~14-20 training images); more are added on demand
TILES_UP_FRONT = 20


class TrainingDataView(SyncActions, w.VBox):
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.model = TrainingDataModel()
        self.plan: ActorPlan | None = None
        self.decisions: dict[Direction, Transfers] = {}  # for the picked images
        self.errors = ErrorBox(self.model)
        self.worker = Worker(self.errors)
        self._generation = 0  # of the last render asked for: an older one never overwrites it
        self._render_lock = threading.Lock()
        self._syncing_actor = ""  # whose sync runs (the page may show another actor meanwhile)
        self.cancel_event = threading.Event()
        self.meter = TransferMeter()
        self._label_at = 0.0
        self.header = classed(w.HTML(), "ab-td-header")
        self.base = w.HTML()
        self.pull_button = w.Button(description="⬇️ Sync from S3", button_style="primary")
        self.push_button = w.Button(description="⬆️ Sync to S3", button_style="success")
        self.cancel_button = w.Button(description="Cancel", disabled=True)
        self.refresh_button = w.Button(description="↻ Refresh")
        # what a sync of the picked images would do
        self.decision = classed(w.HTML(), "ab-decision")
        self.files_bar = classed(w.IntProgress(value=0, max=1, description="Files"),
                                 "ab-files-bar")
        self.bytes_bar = classed(w.IntProgress(value=0, max=1, description="Bytes"),
                                 "ab-bytes-bar")
        self.progress_label = classed(w.HTML(), "ab-progress-label")
        self.status_line = classed(w.HTML(), "ab-status-line")
        self.result = classed(w.HTML(), "ab-sync-result")
        # files that are not training images: listed, never synced
        self.unrecognised = classed(w.HTML(), "ab-unrecognised")
        self.images = ImageGrid(self.model, self.errors, TILES_UP_FRONT, self.show_preview)
        self.tiles, self.grid = self.images.tiles, self.images.box  # (tests read them)
        self.preview = PreviewPanel()
        self.preview_right, self.preview_caption = self.preview.right, self.preview.caption
        from actorbench.ui.pages.training_data.generate_panel import GenerateView

        self.generate = GenerateView(state, on_done=self._on_generated)
        from actorbench.ui.pages.training_data.captions_panel import CaptionsPanel

        self.captions = CaptionsPanel(state, self.errors, self.selected_indices,
                                      lambda: bool(self.model.syncing),
                                      lambda: self.load(fresh=True))
        self.extra = w.VBox([self.generate, self.captions])
        buttons = w.HBox([self.pull_button, self.push_button, self.cancel_button,
                          self.refresh_button])
        super().__init__([self.errors, w.HBox([self.base, self.header]), buttons,
                          self.decision, self.images.toolbar,
                          w.HBox([self.files_bar, self.bytes_bar, self.progress_label]),
                          self.status_line, self.result, self.unrecognised, self.extra,
                          self.preview, self.images])
        g = guarded(self.errors)
        self.pull_button.on_click(g(lambda _: self.start_sync("pull")))
        self.push_button.on_click(g(lambda _: self.start_sync("push")))
        self.cancel_button.on_click(g(self._on_cancel_click))
        self.refresh_button.on_click(g(self._on_refresh_click))
        self.model.observe(g(lambda _: self.render_decision()), "selected")
        self.model.observe(g(lambda _: self.update_buttons()), "syncing")
        state.observe(g(self._on_state_actor), "actor")
        state.observe(g(self._on_state_pixel_ratio), "pixel_ratio")
        self.images.thumb_px = tile_thumb_px(state.pixel_ratio)
        state.observe(g(lambda _: self.load() if not self.worker.busy else None), "revision")
        self.load()

    # -- what the page says: cleared when it stops being true ----------------------------
    def clear_results(self) -> None:
        """Forget what the page said about the last action: messages, preview, bars."""
        self.errors.clear()
        self.model.message = ""
        self.status_line.value = self.result.value = self.images.range_message.value = ""
        self.meter.reset()
        self.progress_label.value = ""
        self.files_bar.value = self.bytes_bar.value = 0
        self.files_bar.max = self.bytes_bar.max = 1
        self.files_bar.bar_style = self.bytes_bar.bar_style = ""
        self.preview.clear()
        self.generate.reset()
        self.captions.clear()

    def _on_state_actor(self, change: dict[str, Any]) -> None:
        """Another actor: nothing said about the last one stays on the page."""
        self.images.clear()  # first: the picks reset below redraw no hidden tile
        self.clear_results()
        self.model.reset()
        self.plan, self.decisions = None, {}
        self.unrecognised.value = ""
        name = change["new"]
        self.header.value = h("div", f"Reading {name} …", cls="ab-loading") if name else ""
        self.decision.value = ""
        if self.model.syncing:  # a sync of the last actor runs on (its buttons wait for it)
            self.status_line.value = h("div", "Sync buttons wait for the sync of ",
                                       self._syncing_actor, " to finish.", cls="ab-hint")
        self.update_buttons()
        self.load()

    def _on_state_pixel_ratio(self, change: dict[str, Any]) -> None:
        """The page says its screen's pixel ratio (at the visit, or after a zoom or a move to
        another screen): the actor shown drawn again with pictures sized for it, from the
        plan shown (no listing), off the UI thread; a sync running redraws tiles as images
        land, and the next render catches up."""
        px = tile_thumb_px(change["new"])
        if px == self.images.thumb_px and not resized(change, BASE_CSS_PX, 1):
            return
        self.images.thumb_px = px
        if self.plan is not None and not self.worker.busy:
            run_in_background(self.model, self._redraw_pictures)

    def _redraw_pictures(self) -> None:
        with self._render_lock:
            plan = self.plan
            if plan is None or plan.actor != self.state.actor:
                return  # another actor is being read: its render uses the new size
            self._show_base(plan.actor)
            self.images.show(plan, self.state.wb.layout.thumbs_dir())

    def _show_base(self, name: str) -> None:
        img = base_image_html(self.state.wb, name, pixel_ratio=self.state.pixel_ratio)
        self.base.value = f'<div class="ab-card">{img}</div>' if img else ""

    def _on_refresh_click(self, _: object) -> None:
        self.clear_results()
        self.load(fresh=True)

    # -- rendering -------------------------------------------------------------------
    def load(self, fresh: bool = False) -> None:
        """Show the chosen actor; the S3 listing and the thumbnails are read off the UI
        thread (``model.wait_idle()`` waits for them). A new actor's local images show while
        S3 is listed, their badges saying so; the listing then gives each its status."""
        self.errors.clear()
        if not self.state.actor:
            self.refresh()  # nothing to read
            return
        generation = self._next_generation()
        run_in_background(self.model, lambda: self._render(generation, fresh))

    def refresh(self, fresh: bool = False) -> None:
        """``load``, blocking: for work already off the UI thread (a sync, generating)."""
        self._render(self._next_generation(), fresh)

    def _next_generation(self) -> int:
        with self._render_lock:
            self._generation += 1
            return self._generation

    def _render(self, generation: int, fresh: bool) -> None:
        name = self.state.actor
        plan = None
        if name:
            with ThreadPoolExecutor(1, thread_name_prefix="actorbench-listing") as listing:
                planned = listing.submit(self.state.plan, name, fresh)
                early = not self.images.shown  # a new actor: its local images meanwhile
                if early:
                    self._show_local(generation, name)
                try:
                    plan = planned.result()
                except BaseException:
                    if early:
                        self._forget_local(generation)
                    raise
        with self._render_lock:
            if generation != self._generation:
                return  # another actor was chosen meanwhile: its render shows
            self.model.actor, self.plan = name, plan
            if plan is None:
                self.header.value = empty_state("No actor chosen",
                                                "choose one on the Library page.")
                self.base.value = ""
                self.images.clear()
                self.unrecognised.value = ""
                self.model.indices = []
                self.render_decision()
                self.generate.set_available(False, "Choose an actor on the Library page first.")
                return
            self._show_base(name)
            self.render_header()
            self.images.show(plan, self.state.wb.layout.thumbs_dir())
            self.captions.show(plan)
            self.render_unrecognised()
            has_base = self.state.wb.layout.base_image_path(name).exists()
            self.generate.set_available(has_base, "" if has_base else (
                "Generating needs a base image: add one at "
                f"{self.state.wb.layout.base_image_path(name)}."))
            self.model.indices = [c.index for c in plan.changes]
            self.model.selected = [i for i in self.model.selected if i in self.model.indices]
            self.render_decision()
        faces_of_grid(self, generation, name)

    def _show_local(self, generation: int, name: str) -> None:
        images = self.state.wb.layout.local_images(name)
        with self._render_lock:
            if generation == self._generation:
                self.images.show_local(images, self.state.wb.layout.thumbs_dir())

    def _forget_local(self, generation: int) -> None:
        """The listing failed: no tile keeps saying its image is being checked."""
        with self._render_lock:
            if generation == self._generation:
                self.images.clear()

    def render_header(self) -> None:
        assert self.plan is not None
        layout = self.state.wb.layout
        actor = self.plan.actor
        self.header.value = plan_header_html(
            self.plan, self.state.wb.engine.usage([actor])[actor],
            layout.base_image_path(actor).exists(), layout.image_path(actor, 0).parent)

    def render_unrecognised(self) -> None:
        assert self.plan is not None
        self.unrecognised.value = unrecognised_html(self.plan)

    def render_decision(self) -> None:
        """What Sync from S3 and Sync to S3 would do to the picked images (all, if none is
        picked): the decision value, before anything moves."""
        plan = self.plan
        if plan is None or not plan.changes:
            self.decisions = {}
            self.decision.value = ("" if plan is None else h(
                "div", "Nothing to sync: this actor has no images here or in S3.",
                cls="ab-hint"))
            self.update_buttons()
            return
        only = self.selected_indices()
        chosen = plan.select(only)
        self.decisions = {d: decide(chosen, d) for d in Direction}
        self.decision.value = decision_html(self.decisions, plan, chosen, bool(only))
        self.update_buttons()

    def update_buttons(self) -> None:
        """A sync button works when its sync would move something; a hover says why not."""
        syncing = bool(self.model.syncing)
        for d, button, nothing in (
                (Direction.PULL, self.pull_button, "Nothing to download"),
                (Direction.PUSH, self.push_button, "Nothing to upload")):
            t = self.decisions.get(d)
            moves = t is not None and bool(t.moving)
            button.disabled = syncing or not moves
            if syncing:
                button.tooltip = "A sync is running."
            elif moves:
                button.tooltip = ""
            elif self.plan is None:
                button.tooltip = ("Reading its images …" if self.state.actor
                                  else "Choose an actor first.")
            else:
                button.tooltip = (f"{nothing} for "
                                  f"{'the picked images' if self.model.selected else 'it'}.")
        self.cancel_button.disabled = not syncing

    def tile_for(self, key: str) -> ImageTile | None:
        return self.images.tile_for(key)

    def selected_indices(self) -> set[int] | None:
        return set(self.model.selected) or None

    # -- preview ---------------------------------------------------------------------
    def show_preview(self, change: Change | None) -> None:
        if change is None:
            return
        self.preview.fetch(self.state, self.model, change,
                           on_shown=lambda: self.captions.edit(change.index))
