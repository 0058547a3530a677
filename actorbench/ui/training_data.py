"""The Training Data page: base image, grid with status badges, sync with live progress."""

from __future__ import annotations

import threading

import ipywidgets as w

from ..sync.files import printable
from ..sync.plan import LABELS, ActorPlan, Change, ImageStatus
from ..sync.progress import ProgressEvent
from ..sync.summary import SyncSummary
from ..thumbs import BadImage, cached_thumbnail, thumbnail_bytes
from .common import ErrorBox, Worker, base_image_html, data_uri, esc, guarded
from .library import counts_html
from .state import AppState

#: tiles built with the page (an actor has ~14-20 training images); more are added on demand
TILES_UP_FRONT = 20


def human_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


class ImageTile(w.VBox):
    """One training image: thumbnail with a status badge, a select box, a preview button."""

    def __init__(self) -> None:
        self.html = w.HTML()
        self.select = w.Checkbox(description="select", indent=False,
                                 layout=w.Layout(width="auto"))
        self.preview = w.Button(description="Preview", layout=w.Layout(width="auto"))
        self.change: Change | None = None
        super().__init__([self.html, w.HBox([self.select, self.preview])])
        self.add_class("ab-tile")

    def show(self, change: Change, thumb: bytes | None, status: ImageStatus | None = None,
             note: str = "") -> None:
        self.change = change
        status = status or change.status
        empty = "⚠️ unreadable" if note else ("☁️ in S3" if change.remote else "—")
        img = (f'<img src="{data_uri(thumb)}">' if thumb else
               f'<div class="ab-thumb-empty" title="{esc(note)}">{empty}</div>')
        label = (f"Invalid: {change.problem}" if status is ImageStatus.INVALID and change.problem
                 else LABELS[status])
        self.html.value = (
            f'<div class="ab-tile-body" data-index="{change.index}">{img}<div>'
            f'<span class="ab-badge ab-status-{status.value}">{esc(label)}</span> '
            f"<small>#{change.index}</small></div></div>")


class TrainingDataView(w.VBox):
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.plan: ActorPlan | None = None
        self.errors = ErrorBox()
        self.worker = Worker(self.errors)
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
        self.refresh_button.on_click(g(lambda _: self.refresh(fresh=True)))
        self.select_all.on_click(g(self._on_select_all_click))
        state.observe(g(lambda _: self.refresh() if not self.worker.busy else None),
                      ["actor", "revision"])
        self.refresh()

    # -- rendering -------------------------------------------------------------------
    def refresh(self, fresh: bool = False) -> None:
        name = self.state.actor
        self.errors.clear()
        if not name:
            self.header.value = "<i>Choose an actor on the Library page.</i>"
            self.base.value = ""
            self.grid.children = []
            self.unrecognised.value = ""
            self.plan = None
            return
        wb = self.state.wb
        self.plan = self.state.plan(name, fresh=fresh)
        img = base_image_html(wb, name)
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
        chosen = {t.change.index for t in self.tiles[:len(self.grid.children)]
                  if t.select.value and t.change is not None}
        return chosen or None

    def _on_select_all_click(self, _: object) -> None:
        for t in self.tiles:
            t.select.value = False

    # -- preview ---------------------------------------------------------------------
    def show_preview(self, change: Change | None) -> None:
        if change is None:
            return
        wb = self.state.wb
        base = wb.layout.base_image_path(change.actor)
        if base.exists():
            self.preview_left.value = thumbnail_bytes(base, 768)
        if change.local is not None:
            self.preview_right.format = "png"
            self.preview_right.value = change.local.path.read_bytes()
            where = "local file"
        elif change.remote is not None:  # fetched on demand, never written to disk
            body, _ = wb.store.open_get(change.key)
            try:
                self.preview_right.value = body.read()
            finally:
                body.close()
            where = "fetched from S3 (not synced)"
        else:
            raise ValueError(f"Image #{change.index} is missing on both sides.")
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
        self._set_busy(True)
        scope = f"{len(only)} selected images" if only else "all images"
        self.status_line.value = f"{'Pulling' if direction == 'pull' else 'Pushing'} {scope} …"
        engine = self.state.wb.engine
        run = engine.pull if direction == "pull" else engine.push
        out: dict[str, SyncSummary] = {}

        def job() -> None:
            out.update(run([name], only=only, progress=self._on_progress,
                           cancel=self.cancel_event))

        def done() -> None:
            self._set_busy(False)
            if name in out:
                self.show_summary(out[name])
            self.refresh(fresh=True)  # (this page skips the revision while its worker runs)
            self.state.changed()

        return self.worker.start(job, done)

    def _set_busy(self, busy: bool) -> None:
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
        j = s.to_json()
        verb = "downloaded" if s.direction == "pull" else "uploaded"
        text = (f"{'Cancelled: ' if s.cancelled else ''}{j[verb]} {verb}, {s.skipped} already "
                f"in place, {s.failed} failed, {len(s.conflicts)} conflicts (of {s.total}).")
        self.status_line.value = f'<div class="{"ab-ok" if s.ok else "ab-error"}">{esc(text)}</div>'
        items = [f"<li><code>{esc(e['key'])}</code>: {esc(e['error'])}</li>" for e in s.errors]
        items += [f"<li>Conflict, both versions kept: <code>{esc(k)}</code></li>"
                  for k in s.conflicts]
        items += [f"<li>Invalid, not {verb}: <code>{esc(i['key'])}</code>: {esc(i['reason'])}"
                  "</li>" for i in s.invalid]
        self.result.value = f'<ul class="ab-error-list">{"".join(items)}</ul>' if items else ""
