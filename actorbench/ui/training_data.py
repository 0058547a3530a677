"""The Training Data page: base image, grid with status badges, sync with live progress."""

from __future__ import annotations

import threading

import ipywidgets as w

from ..sync.files import printable
from ..sync.plan import ActorPlan, Change, ImageStatus
from ..sync.progress import ProgressEvent
from ..sync.summary import SyncSummary, transferred_verb
from ..thumbs import BadImage, cached_thumbnail, thumbnail_bytes
from .background import run_in_background
from .common import ErrorBox, Worker, base_image_html, esc, guarded
from .library import counts_html
from .models import TrainingDataModel
from .state import AppState
from .tiles import ImageTile
from .tiles import human_bytes as human_bytes  # (the Cache page imports it from here)

#: tiles built with the page (an actor has ~14-20 training images); more are added on demand
TILES_UP_FRONT = 20


class TrainingDataView(w.VBox):
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.model = TrainingDataModel()
        self.plan: ActorPlan | None = None
        self.errors = ErrorBox(self.model)
        self.worker = Worker(self.errors)
        self._generation = 0  # of the last render asked for: an older one never overwrites it
        self._render_lock = threading.Lock()
        self.cancel_event = threading.Event()
        self.header = w.HTML()
        self.header.add_class("ab-td-header")
        self.base = w.HTML()
        self.pull_button = w.Button(description="⬇️ Sync from S3", button_style="primary")
        self.push_button = w.Button(description="⬆️ Sync to S3", button_style="success")
        self.cancel_button = w.Button(description="Cancel", disabled=True)
        self.refresh_button = w.Button(description="↻ Refresh")
        self.select_all = w.Button(description="Select none")
        self.files_bar = w.IntProgress(value=0, max=1, description="Files")
        self.bytes_bar = w.IntProgress(value=0, max=1, description="Bytes")
        self.files_bar.add_class("ab-files-bar")
        self.bytes_bar.add_class("ab-bytes-bar")
        self.status_line = w.HTML()
        self.status_line.add_class("ab-status-line")
        self.result = w.HTML()
        self.result.add_class("ab-sync-result")
        self.unrecognised = w.HTML()  # files that are not training images: listed, never synced
        self.unrecognised.add_class("ab-unrecognised")
        self.tiles: list[ImageTile] = []
        # a typical actor's tiles exist before anyone picks one: they travel with the page
        # (a preheated kernel builds them early), so choosing an actor only sends new values
        self._grow_tiles(TILES_UP_FRONT)
        self.grid = w.Box(layout=w.Layout(display="flex", flex_flow="row wrap"))
        self.grid.add_class("ab-grid")
        self.preview_left = w.Image(format="jpeg", layout=w.Layout(width="48%"))
        self.preview_right = w.Image(format="png", layout=w.Layout(width="48%"))
        self.preview_caption = w.HTML()
        self.preview = w.VBox([self.preview_caption,
                               w.HBox([self.preview_left, self.preview_right])])
        self.preview.add_class("ab-preview")
        self.preview.layout.display = "none"
        from .generate import GenerateView

        self.generate = GenerateView(state, on_done=lambda: self.refresh(fresh=True))
        self.extra = w.VBox([self.generate])
        buttons = w.HBox([self.pull_button, self.push_button, self.cancel_button,
                          self.refresh_button, self.select_all])
        super().__init__([self.errors, w.HBox([self.base, self.header]), buttons,
                          w.HBox([self.files_bar, self.bytes_bar]), self.status_line,
                          self.result, self.unrecognised, self.extra, self.preview,
                          self.grid])
        g = guarded(self.errors)
        self.pull_button.on_click(g(lambda _: self.start_sync("pull")))
        self.push_button.on_click(g(lambda _: self.start_sync("push")))
        self.cancel_button.on_click(g(self._on_cancel_click))
        self.refresh_button.on_click(g(lambda _: self.load(fresh=True)))
        self.select_all.on_click(g(self._on_select_all_click))
        self.model.observe(self._on_model_selected, "selected")
        self.model.observe(self._on_model_syncing, "syncing")
        state.observe(g(lambda _: self.load() if not self.worker.busy else None),
                      ["actor", "revision"])
        self.load()

    # -- rendering -------------------------------------------------------------------
    def load(self, fresh: bool = False) -> None:
        """Show the chosen actor; the S3 listing and the thumbnails are read off the UI
        thread (``model.wait_idle()`` waits for them)."""
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
        plan = self.state.plan(name, fresh=fresh) if name else None
        with self._render_lock:
            if generation != self._generation:
                return  # another actor was chosen meanwhile: its render shows
            self.model.actor, self.plan = name, plan
            if plan is None:
                self.header.value = "<i>Choose an actor on the Library page.</i>"
                self.base.value = ""
                self.grid.children = []
                self.unrecognised.value = ""
                return
            img = base_image_html(self.state.wb, name)
            self.base.value = f'<div class="ab-card">{img}</div>' if img else ""
            self.render_header()
            self.render_grid()
            self.render_unrecognised()

    def render_header(self) -> None:
        assert self.plan is not None
        used = self.state.wb.engine.usage([self.plan.actor])[self.plan.actor]
        self.header.value = (f'<div class="ab-title">{esc(self.plan.actor)}</div>'
                             f"{counts_html(self.plan.counts())}"
                             f'<div class="ab-storage">Local storage: {human_bytes(used)} · '
                             f"S3: {human_bytes(self.plan.remote_bytes)} · "
                             f"{len(self.plan.changes)} images</div>")

    def render_unrecognised(self) -> None:
        assert self.plan is not None
        items = [f"<li><code>{esc(printable(u.name))}</code> "
                 f"({'in S3' if u.where == 's3' else 'local'}): {esc(u.reason)}</li>"
                 for u in self.plan.unrecognised]
        self.unrecognised.value = (
            f"<details open><summary>{len(items)} file(s) that are not training images "
            f"(never synced)</summary><ul>{''.join(items)}</ul></details>" if items else "")

    def _grow_tiles(self, n: int) -> None:
        while len(self.tiles) < n:
            tile = ImageTile()
            tile.preview.on_click(guarded(self.errors)(
                lambda _, tile=tile: self.show_preview(tile.change)))
            tile.select.observe(self._on_tile_select_value, "value")
            self.tiles.append(tile)

    def render_grid(self) -> None:
        assert self.plan is not None
        changes = self.plan.changes
        self._grow_tiles(len(changes))
        cache = self.state.wb.layout.thumbs_dir()
        for tile, ch in zip(self.tiles, changes, strict=False):
            tile.select.value = False
            try:
                thumb = cached_thumbnail(ch.local.path, cache) if ch.local else None
            except BadImage as exc:  # a corrupt file gets a tile that says so
                thumb = None
                tile.show(ch, None, note=str(exc))
                continue
            tile.show(ch, thumb)
        self.grid.children = self.tiles[:len(changes)]

    def tile_for(self, key: str) -> ImageTile | None:
        for tile in self.tiles:
            if tile.change is not None and tile.change.key == key:
                return tile
        return None

    def selected_indices(self) -> set[int] | None:
        return set(self.model.selected) or None

    def _on_tile_select_value(self, _: object) -> None:
        self.model.selected = [tile.change.index for tile in self.tiles[:len(self.grid.children)]
                               if tile.select.value and tile.change is not None]

    def _on_model_selected(self, change: dict) -> None:  # type: ignore[type-arg]
        chosen = set(change["new"])
        for tile in self.tiles:
            if tile.change is not None:
                tile.select.value = tile.change.index in chosen

    def _on_select_all_click(self, _: object) -> None:
        for tile in self.tiles:
            tile.select.value = False

    # -- preview ---------------------------------------------------------------------
    def show_preview(self, change: Change | None) -> None:
        """The base image beside ``change``'s image; an image only in S3 is fetched (off the
        UI thread), never written to disk."""
        if change is None:
            return
        run_in_background(self.model, lambda: self._read_preview(change),
                          on_done=lambda shown: self._show_preview(change, *shown))

    def _read_preview(self, change: Change) -> tuple[bytes | None, bytes, str]:
        wb = self.state.wb
        base = wb.layout.base_image_path(change.actor)
        left = thumbnail_bytes(base, 768) if base.exists() else None
        if change.local is not None:
            return left, change.local.path.read_bytes(), "local file"
        if change.remote is not None:
            body, _ = wb.store.open_get(change.key)
            try:
                return left, body.read(), "fetched from S3 (not synced)"
            finally:
                body.close()
        raise ValueError(f"Image #{change.index} is missing on both sides.")

    def _show_preview(self, change: Change, left: bytes | None, right: bytes, where: str
                      ) -> None:
        if left is not None:
            self.preview_left.value = left
        self.preview_right.format = "png"
        self.preview_right.value = right
        self.preview_caption.value = (f"<b>Base image</b> vs <b>#{change.index}</b> "
                                      f"({esc(where)})")
        self.preview.layout.display = "flex"

    # -- sync ------------------------------------------------------------------------
    def start_sync(self, direction: str) -> bool:
        if not self.state.actor or self.worker.busy:
            return False
        name, only = self.state.actor, self.selected_indices()
        self.cancel_event.clear()
        self.files_bar.value = self.bytes_bar.value = 0
        self.files_bar.max = self.bytes_bar.max = 1
        self.result.value = ""
        self.errors.clear()
        self.model.syncing = direction
        scope = f"{len(only)} selected images" if only else "all images"
        self.status_line.value = f"{'Pulling' if direction == 'pull' else 'Pushing'} {scope} …"
        engine = self.state.wb.engine
        run = engine.pull if direction == "pull" else engine.push
        out: dict[str, SyncSummary] = {}

        def job() -> None:
            out.update(run([name], only=only, progress=self._on_progress,
                           cancel=self.cancel_event))

        def done() -> None:
            self.model.syncing = ""
            if name in out:
                self.show_summary(out[name])
            self.refresh(fresh=True)  # (this page skips the revision while its worker runs)
            self.state.changed()

        return self.worker.start(job, done)

    def _on_model_syncing(self, change: dict) -> None:  # type: ignore[type-arg]
        busy = bool(change["new"])
        self.pull_button.disabled = self.push_button.disabled = busy
        self.cancel_button.disabled = not busy

    def _on_cancel_click(self, _: object) -> None:
        self.cancel_event.set()
        self.status_line.value = "Cancelling …"

    def _on_progress(self, ev: ProgressEvent) -> None:
        if ev.kind == "plan":
            self.files_bar.max = max(1, ev.files_total)
            self.bytes_bar.max = max(1, ev.bytes_total)
            if ev.files_total == 0:
                self.files_bar.value, self.bytes_bar.value = 1, 1
        elif ev.kind == "bytes":
            self.bytes_bar.value = max(0, min(self.bytes_bar.max, self.bytes_bar.value + ev.nbytes))
        elif ev.kind == "file":
            self.files_bar.value = min(self.files_bar.max, self.files_bar.value + 1)
            tile = self.tile_for(ev.key)
            if ev.ok and tile is not None and tile.change is not None:
                path = self.state.wb.layout.image_path(tile.change.actor, tile.change.index)
                try:
                    thumb = (cached_thumbnail(path, self.state.wb.layout.thumbs_dir())
                             if path.exists() else None)
                except BadImage:
                    thumb = None
                tile.show(tile.change, thumb, ImageStatus.SYNCED)  # the grid updates as images land
        elif ev.kind == "done":
            self.bytes_bar.value = self.bytes_bar.max if ev.ok else self.bytes_bar.value

    def show_summary(self, s: SyncSummary) -> None:
        verb = transferred_verb(s.direction)
        text = (f"{'Cancelled: ' if s.cancelled else ''}{s.transferred} {verb}, {s.skipped} "
                f"already in place, {s.failed} failed, {len(s.conflicts)} conflicts "
                f"(of {s.total}).")
        self.model.message = text
        self.status_line.value = f'<div class="{"ab-ok" if s.ok else "ab-error"}">{esc(text)}</div>'
        items = [f"<li><code>{esc(e['key'])}</code>: {esc(e['error'])}</li>" for e in s.errors]
        items += [f"<li>Conflict, both versions kept: <code>{esc(k)}</code></li>"
                  for k in s.conflicts]
        items += [f"<li>Invalid, not {verb}: <code>{esc(i['key'])}</code>: {esc(i['reason'])}"
                  "</li>" for i in s.invalid]
        self.result.value = f'<ul class="ab-error-list">{"".join(items)}</ul>' if items else ""
