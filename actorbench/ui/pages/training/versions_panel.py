"""The Training page's trained versions: the table (each completed version's last samples
beside the actor's base image, and how like the actor they are: ``likeness``), a preview of
one version (every sample, its loss curve, who launched it and who marked it good, "Mark as
good") and two versions side by side, their likeness scores above them.

Sample images are fetched from S3 off the UI thread (``SampleThumbs``); until then a sample
shows "…". Every value from a record is text (``html.h``); images are our own data URIs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from actorbench.present.html import Html, esc, h
from actorbench.present.words import money, short_time
from actorbench.training import TrainingService, TrainingVersion
from actorbench.training.service import lora_prefix
from actorbench.ui.mvc import PageModel, run_in_background
from actorbench.ui.pages.training import likeness as looks
from actorbench.ui.pages.training.likeness import Likeness
from actorbench.ui.pages.training.model import VersionsModel
from actorbench.ui.pages.training.rows import (
    _count,
    mark_words,
    version_row,
    versions_table,
    who_words,
)
from actorbench.ui.pages.training.sample_thumbs import SAMPLE_PX, SampleThumbs
from actorbench.ui.state import AppState
from actorbench.ui.widgets.common import ErrorBox, guarded, resized, screen_px
from actorbench.ui.widgets.thumbs import CardThumbs, card_thumb_px


def samples_of(v: TrainingVersion, last_only: bool = False) -> list[dict[str, Any]]:
    """The version's samples that name an image (``{step, prompt, url}``), by step; only the
    last checkpoint's with ``last_only``."""
    raw = v.samples if isinstance(v.samples, list) else []
    found = [s for s in raw if isinstance(s, dict) and isinstance(s.get("url"), str)]
    found.sort(key=lambda s: _count(s.get("step")) or 0)
    if last_only and found:
        last = max(_count(s.get("step")) or 0 for s in found)
        found = [s for s in found if (_count(s.get("step")) or 0) == last]
    return found


def _img(uri: str, cls: str, alt: object) -> Html:
    """An ``<img>`` of a data URI made here (the only images the pages show)."""
    return Html(f'<img class="{cls}" src="{esc(uri)}" alt="{esc(alt)}">')


def _base_html(uri: str | None, note: str) -> Html:
    if uri:
        return _img(uri, "ab-base-image", "base image")
    return h("div", note or ("…" if uri is None else "No base image"),
             cls="ab-sample-missing")


def _params_words(v: TrainingVersion) -> str:
    p = v.parameters if isinstance(v.parameters, dict) else {}
    return (f"{p.get('base_model')} · {p.get('max_train_steps')} steps"
            f" · rank {p.get('network_rank')}")


def _head(v: TrainingVersion, mark: object) -> Html:
    """``v2 · 22 Nov 14:05 · launched by alice@ws-a · sd15 · 400 steps · $0.02``."""
    est = v.estimate if isinstance(v.estimate, dict) else {}
    cost = (v.timings or {}).get("cost_usd") if isinstance(v.timings, dict) else None
    good = isinstance(mark, dict) and mark.get("version_id") == v.id and v.isGood
    return h("div", h("b", v.name), " · ", short_time(v.created_at), " · launched by ",
             who_words(v.user, v.machine), " · ", _params_words(v), " · cost ", money(cost),
             f" (estimate {money(est.get('cost_usd'))})",
             *((h("br"), h("span", "✅ ", mark_words(mark), cls="ab-ok-text")) if good else
               (h("br"), h("span", "✅ good", cls="ab-ok-text")) if v.isGood else ()),
             cls="ab-preview-head")


class VersionsPanel(w.VBox):
    """The versions table, the preview with "Mark as good", and the compare view.

    ``show(versions)`` (any thread) redraws them; ``model`` is the page's, so ``wait_idle``
    also waits for the sample fetches and the loss curve."""

    def __init__(self, state: AppState, model: PageModel, errors: ErrorBox,
                 service: Callable[[], TrainingService],
                 on_marked: Callable[[TrainingVersion], None]) -> None:
        self.state, self.model, self.errors = state, model, errors
        self.service, self.on_marked = service, on_marked
        self.vm = VersionsModel()
        self.thumbs, self.base_thumbs = self._thumbs()
        self._lock = threading.RLock()
        self._versions: list[TrainingVersion] = []
        self._actor = ""
        self._syncing = False  # the dropdowns are being filled: not a choice
        self._losses: dict[str, bytes] = {}  # version id -> its loss curve (PNG)
        self.likeness: Likeness | None = None  # the versions' likeness, once measured
        self._measured: tuple[object, ...] = ()  # what it was measured for
        self.table = w.HTML()
        self.table.add_class("ab-versions")
        self.likeness_line = w.HTML()
        self.likeness_line.add_class("ab-likeness-line")
        self.pick = w.Dropdown(options=[], description="Version")
        self.good_button = w.Button(description="✅ Mark as good")
        self.preview = w.HTML(layout=w.Layout(flex="1"))
        self.preview.add_class("ab-version-preview")
        self.loss = w.Image(format="png", layout=w.Layout(display="none", width="420px"))
        self.loss.add_class("ab-loss-curve")
        self.left = w.Dropdown(options=[], description="Left")
        self.right = w.Dropdown(options=[], description="Right")
        self.compare = w.HTML()
        self.compare.add_class("ab-compare-view")
        super().__init__([
            w.HTML("<h4>Trained versions</h4>"), self.likeness_line, self.table,
            w.HTML("<h4>Preview</h4>"), w.HBox([self.pick, self.good_button]),
            w.HBox([self.preview, self.loss]),
            w.HTML("<h4>Compare two versions</h4>"), w.HBox([self.left, self.right]),
            self.compare])
        g = guarded(errors)
        self.good_button.on_click(g(self._on_good_click))
        state.observe(g(self._on_state_pixel_ratio), "pixel_ratio")
        for widget, trait in ((self.pick, "chosen"), (self.left, "left"),
                              (self.right, "right")):
            widget.observe(g(self._choice(trait)), "value")

    def _thumbs(self) -> tuple[SampleThumbs, CardThumbs]:
        """Sample and base-image thumbnails sized for the screen (``common.screen_px``; the
        pictures show at 128 CSS px, samples at ``SAMPLE_PX``, the base at a card's size)."""
        ratio, wb = self.state.pixel_ratio, self.state.wb
        samples = SampleThumbs(wb.store, wb.layout.thumbs_dir(),
                               px=screen_px(SAMPLE_PX, ratio, 1),
                               prefix=lora_prefix(wb.settings.prefix))
        return samples, CardThumbs(wb.layout, card_thumb_px(ratio))

    def _on_state_pixel_ratio(self, change: dict[str, Any]) -> None:
        """The page says another pixel ratio: the pictures again, sized for it."""
        if resized(change, SAMPLE_PX, 1):
            with self._lock:
                self.thumbs, self.base_thumbs = self._thumbs()
            self.render()

    def _choice(self, trait: str) -> Callable[[dict[str, Any]], None]:
        def on_value(change: dict[str, Any]) -> None:
            if not self._syncing:
                self.vm.choose(trait, change["new"] or "")
                self.render()
        return on_value

    # -- drawing -----------------------------------------------------------------------------
    def show(self, versions: list[TrainingVersion], actor: str) -> None:
        """Draw ``versions`` of ``actor`` (newest first); what was chosen stays chosen."""
        with self._lock:
            self._versions, self._actor = list(versions), actor
            self.vm.offer(self._versions,
                          label=lambda v: f"{v.name} ({short_time(v.created_at)})")
            self._syncing = True
            try:
                for widget, trait in ((self.pick, "chosen"), (self.left, "left"),
                                      (self.right, "right")):
                    choices = tuple(self.vm.choices)
                    if tuple(widget.options) != choices:  # (a poll mostly changes nothing)
                        widget.options = choices
                    if widget.value != (getattr(self.vm, trait) or None):
                        widget.value = getattr(self.vm, trait) or None
            finally:
                self._syncing = False
        self._measure(actor, versions)
        self.render()

    def _measure(self, actor: str, versions: list[TrainingVersion]) -> None:
        """The versions' likeness, off the UI thread (samples are fetched and analysed), once
        per actor and set of scored versions: a poll that changes nothing measures nothing."""
        todo = looks.scored(versions)
        key = (actor, *((v.id, len(v.samples)) for v in todo))
        with self._lock:
            if key == self._measured:
                return
            self._measured = key
            self.likeness = looks.MEASURING if todo else None
        if not todo:
            return

        def done(lk: Likeness) -> None:
            with self._lock:
                if self._measured != key:
                    return  # another actor or another set of versions meanwhile
                self.likeness = lk
            self.render(fetch=False)

        run_in_background(self.model,
                          lambda: looks.measure_likeness(self.state.wb, actor, todo),
                          on_done=done, on_error=lambda e: done(looks.not_measured(e)),
                          name="actorbench-likeness")

    def render(self, fetch: bool = True) -> None:
        """The table, the preview and the compare view from what is at hand; samples not
        fetched yet follow from a background thread (once: ``fetch=False`` after it)."""
        with self._lock:
            actor, versions = self._actor, self._versions
            pending: list[object] = []
            mark = self._mark(actor)
            uri, note = self.base_thumbs.peek(actor) if actor else ("", "")
            base = _base_html(uri, note)
            lk = self.likeness
            rows = [version_row(v, mark, self._strip(v, pending, mini=True),
                                looks.likeness_cell(lk, v)) for v in reversed(versions)]
            self.likeness_line.value = looks.likeness_note(lk) if actor else ""
            self.table.value = versions_table(rows, base) if actor else ""
            chosen = self.vm.previewed()
            self.preview.value = (h("div", _head(chosen, mark), h(
                "div", h("figure", base, h("figcaption", "Base image"), cls="ab-sample-fig"),
                self._strip(chosen, pending), cls="ab-samples")) if chosen else
                h("i", "No completed version yet: its samples show here."))
            pair = self.vm.pair()
            self.compare.value = self._compare(pair, base, mark, pending) if pair else h(
                "i", self.vm.why_no_pair())
            self._show_loss(chosen)
        if fetch and (pending or uri is None):
            def make() -> bool:
                made = self.base_thumbs.make([actor]) if uri is None else False
                return self.thumbs.make(pending) or made

            run_in_background(self.model, make, name="actorbench-sample-thumbs",
                              on_done=lambda made: self.render(fetch=False) if made else None)

    def _mark(self, actor: str) -> object:
        try:
            return self.state.wb.registry.get(actor).validated_lora_model if actor else None
        except Exception:  # gone from actors.json meanwhile: no mark to show
            return None

    def _strip(self, v: TrainingVersion, pending: list[object], mini: bool = False) -> Html:
        """The version's samples (the last checkpoint's, small, with ``mini``)."""
        if str(v.status) != "COMPLETED":
            return Html("")
        figs = []
        for s in samples_of(v, last_only=mini):
            uri, note = self.thumbs.peek(s["url"])
            if uri is None:
                pending.append(s["url"])
            prompt = s.get("prompt") if isinstance(s.get("prompt"), str) else ""
            if mini:
                figs.append(_img(uri, "ab-sample-mini", prompt) if uri else
                            h("span", "…" if uri is None else "✕", title=note or prompt))
                continue
            img = _img(uri, "ab-sample", prompt) if uri else h(
                "div", "…" if uri is None else note, cls="ab-sample-missing")
            figs.append(h("figure", img, h("figcaption", f"step {_count(s.get('step'))} · ",
                                           prompt), cls="ab-sample-fig"))
        if not figs:
            return Html("") if mini else h("i", "This version has no sample images.")
        return Html("".join(figs))

    def _compare(self, pair: tuple[TrainingVersion, TrainingVersion], base: Html,
                 mark: object, pending: list[object]) -> Html:
        cols = [h("div", h("h4", "Base image"), base, cls="ab-compare-base")]
        cols += [h("div", _head(v, mark), h("div", self._strip(v, pending), cls="ab-samples"),
                   cls="ab-compare-col") for v in pair]
        return h("div", looks.compare_scores(pair, self.likeness),
                 h("div", *cols, cls="ab-compare"))

    def _show_loss(self, v: TrainingVersion | None) -> None:
        """The loss curve of the previewed version, drawn off the UI thread once."""
        if v is None or not v.loss:
            self.loss.layout.display = "none"
            return
        if v.id in self._losses:
            self.loss.value = self._losses[v.id]
            self.loss.layout.display = "block" if self._losses[v.id] else "none"
            return

        def draw() -> bytes:
            from actorbench.reports.plots import loss_curve, png

            fig = loss_curve(v.loss, f"{v.name}: training loss")
            return png(fig) if fig is not None else b""

        def drawn(data: bytes) -> None:
            self._losses[v.id] = data
            if self.vm.chosen == v.id:
                self._show_loss(v)

        run_in_background(self.model, draw, on_done=drawn, name="actorbench-loss-curve")

    # -- mark as good ------------------------------------------------------------------------
    def _on_good_click(self, _: object) -> None:
        if not self.vm.chosen:
            self.errors.show("Choose a completed version first.")
            return
        actor = self.state.actor
        v = self.service().mark_good(actor, self.vm.chosen)
        self.state.wb.reload_registry()
        self.show(self.service().versions.load(self.state.wb.registry.get(actor).id), actor)
        self.on_marked(v)
