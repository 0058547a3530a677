"""The Training Data page's sync half: start, cancel, live progress, and the summary.

A mixin of ``TrainingDataView`` (it uses the page's widgets and model), kept apart so each
file reads as one concern: what the page shows (training_data.py), how a sync runs here.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from actorbench.present.words import plural
from actorbench.sync.plan import ImageStatus
from actorbench.sync.progress import ProgressEvent, ProgressKind
from actorbench.sync.summary import SyncSummary, transferred_verb
from actorbench.thumbs import BadImage, cached_thumbnail
from actorbench.ui.widgets.common import esc

#: bytes events arrive by the hundred: the progress label follows them this often at most
LABEL_EVERY_S = 0.25

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    import ipywidgets as w

    from actorbench.present.progress import TransferMeter
    from actorbench.ui.pages.training_data.image_grid import ImageGrid
    from actorbench.ui.pages.training_data.model import TrainingDataModel
    from actorbench.ui.pages.training_data.tiles import ImageTile
    from actorbench.ui.state import AppState
    from actorbench.ui.widgets.common import Worker


class SyncActions:
    """Sync for the Training Data page; the attributes below are the page's."""

    state: AppState
    model: TrainingDataModel
    images: ImageGrid
    worker: Worker
    cancel_event: threading.Event
    status_line: w.HTML
    progress_label: w.HTML
    result: w.HTML
    files_bar: w.IntProgress
    bytes_bar: w.IntProgress
    meter: TransferMeter
    _label_at: float
    _syncing_actor: str | None
    clear_results: Callable[[], None]
    refresh: Callable[..., None]
    tile_for: Callable[[str], ImageTile | None]
    selected_indices: Callable[[], set[int] | None]
    # -- sync ------------------------------------------------------------------------
    def start_sync(self, direction: str) -> bool:
        if not self.state.actor or self.worker.busy:
            return False
        name, only = self.state.actor, self.selected_indices()
        self.cancel_event.clear()
        self.clear_results()
        self._syncing_actor = name
        self.model.syncing = direction
        scope = f"{plural(len(only), 'selected image')}" if only else "all images"
        self.status_line.value = f"{'Pulling' if direction == 'pull' else 'Pushing'} {scope} …"
        engine = self.state.wb.engine
        run = engine.pull if direction == "pull" else engine.push
        out: dict[str, SyncSummary] = {}

        def job() -> None:
            out.update(run([name], only=only, progress=self._on_progress,
                           cancel=self.cancel_event))

        def done() -> None:
            self.model.syncing = ""
            if self.state.actor == name:  # else the page shows another actor now
                self.progress_label.value = esc(self.meter.label())
                if name in out:
                    self.show_summary(out[name])
            self.refresh(fresh=True)  # (this page skips the revision while its worker runs)
            self.state.changed()

        return self.worker.start(job, done)

    def _on_cancel_click(self, _: object) -> None:
        self.cancel_event.set()
        self.status_line.value = "Cancelling …"

    def _on_progress(self, ev: ProgressEvent) -> None:
        if ev.actor != self.state.actor:
            return  # the page shows another actor now
        self.meter.update(ev)
        now = time.monotonic()
        if ev.kind != ProgressKind.BYTES or now - self._label_at >= LABEL_EVERY_S:
            self._label_at = now
            self.progress_label.value = esc(self.meter.label())
        if ev.kind == ProgressKind.PLAN:
            self.files_bar.max = max(1, ev.files_total)
            self.bytes_bar.max = max(1, ev.bytes_total)
            if ev.files_total == 0:
                self.files_bar.value, self.bytes_bar.value = 1, 1
        elif ev.kind == ProgressKind.BYTES:
            self.bytes_bar.value = max(0, min(self.bytes_bar.max, self.bytes_bar.value + ev.nbytes))
        elif ev.kind == ProgressKind.FILE:
            self.files_bar.value = min(self.files_bar.max, self.files_bar.value + 1)
            tile = self.tile_for(ev.key)
            if ev.ok and tile is not None and tile.change is not None:
                path = self.state.wb.layout.image_path(tile.change.actor, tile.change.index)
                try:
                    thumb = (cached_thumbnail(path, self.state.wb.layout.thumbs_dir(),
                                              self.images.thumb_px)
                             if path.exists() else None)
                except BadImage:
                    thumb = None
                tile.show(tile.change, thumb, ImageStatus.SYNCED)  # the grid updates as images land
        elif ev.kind == ProgressKind.DONE:
            self.bytes_bar.value = self.bytes_bar.max if ev.ok else self.bytes_bar.value

    def show_summary(self, s: SyncSummary) -> None:
        text = summary_text(s)
        self.model.message = text
        self.status_line.value = f'<div class="{"ab-ok" if s.ok else "ab-error"}">{esc(text)}</div>'
        verb = transferred_verb(s.direction)
        items = [f"<li><code>{esc(e['key'])}</code>: {esc(e['error'])}</li>" for e in s.errors]
        items += [f"<li>Conflict, both versions kept: <code>{esc(k)}</code></li>"
                  for k in s.conflicts]
        items += [f"<li>Invalid, not {verb}: <code>{esc(i['key'])}</code>: {esc(i['reason'])}"
                  "</li>" for i in s.invalid]
        self.result.value = f'<ul class="ab-error-list">{"".join(items)}</ul>' if items else ""

    def _on_generated(self) -> None:
        """New images: the last sync's result no longer describes the actor."""
        self.status_line.value = self.result.value = ""
        self.meter.reset()
        self.progress_label.value = ""
        self.files_bar.value = self.bytes_bar.value = 0
        self.refresh(fresh=True)


def summary_text(s: SyncSummary) -> str:
    """``"14 downloaded, 1 failed (of 15 images)."``: what happened, zeros left out."""
    parts = [f"{s.transferred} {transferred_verb(s.direction)}"]
    if s.skipped:
        parts.append(f"{s.skipped} already in place")
    if s.failed:
        parts.append(f"{s.failed} failed")
    if s.conflicts:
        parts.append(plural(len(s.conflicts), "conflict"))
    if s.invalid:
        parts.append(f"{len(s.invalid)} refused as invalid")
    captions = f" and {plural(s.captions, 'caption')}" if s.captions else ""
    return (f"{'Cancelled: ' if s.cancelled else ''}{', '.join(parts)} "
            f"(of {plural(s.total - s.captions, 'image')}{captions}).")
