"""The Training Data page's grid of tiles, and the picks: tick boxes, select all / none /
invert, and an index range box (``0-9,12``, the CLI's ``--only``). The picks live in the
page's ``TrainingDataModel``; this widget shows them and changes them.

A tile is markup (``tiles.py``): its tick box and preview button are ``data-ab-action``
elements whose clicks the Voila page's script writes into the hidden ``pick`` box as
``"<action> <index> <nonce>"``, as for the Library's cards. Tests drive it the same way::

    grid.pick.value = "tick 3 1"     # or "untick 3 2", "preview 3 3"
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import ipywidgets as w
from ipywidgets.widgets.widget_string import HTMLStyle

from actorbench.errors import ActorbenchError
from actorbench.present.html import h
from actorbench.sync.plan import ActorPlan, Change
from actorbench.sync.selection import format_only
from actorbench.thumbs import cached_thumbnails, read_cached_thumbnail
from actorbench.ui.pages.training_data.model import TrainingDataModel
from actorbench.ui.pages.training_data.tiles import ImageTile, tile_thumb_px
from actorbench.ui.widgets.common import ErrorBox, guarded, parse_pick

#: what a tile's controls send (``untick``: the script's name for a box being unticked)
PICKS = ("tick", "untick", "preview")

#: draws one tile: (tile, its position in the grid, thumbnail, why there is none, being made)
Draw = Callable[[ImageTile, int, bytes | None, str, bool], None]


class ImageGrid(w.VBox):
    def __init__(self, model: TrainingDataModel, errors: ErrorBox, up_front: int,
                 on_preview: Callable[[Change | None], None]) -> None:
        self.model = model
        self.errors = errors
        self.on_preview = on_preview
        self._ticking = False  # the range box is being set from the model: not a pick
        self.select_all = w.Button(description="Select all", layout=w.Layout(width="auto"))
        self.select_none = w.Button(description="Select none", layout=w.Layout(width="auto"))
        self.invert = w.Button(description="Invert", layout=w.Layout(width="auto"))
        self.range_box = w.Text(placeholder="e.g. 0-9,12", description="Images",
                                continuous_update=False, layout=w.Layout(width="240px"))
        self.range_box.add_class("ab-range-box")
        self.range_message = w.HTML()
        self.range_message.add_class("ab-range-message")
        self.pick = w.Text(continuous_update=True, layout=w.Layout(display="none"))
        self.pick.add_class("ab-pick")
        # the tiles share one layout and one style: a widget model each, not three
        self._tile_layout, self._tile_style = w.Layout(), HTMLStyle()
        self.tiles: list[ImageTile] = []
        self._showing = threading.Lock()  # clear() against a drawing's end, in two threads
        self._cleared = 0  # clear()s so far
        #: the thumbnails' side in image pixels (``tile_thumb_px`` of the screen's ratio)
        self.thumb_px = tile_thumb_px(0)
        # a typical actor's tiles exist before anyone picks one: they travel with the page
        # (a preheated kernel builds them early), so choosing an actor only sends new values
        self._grow_tiles(up_front)
        self.box = w.Box(layout=w.Layout(display="flex", flex_flow="row wrap"))
        self.box.add_class("ab-grid")
        self.toolbar = w.HBox([self.select_all, self.select_none, self.invert, self.range_box,
                               self.range_message])  # (the page places it by its buttons)
        super().__init__([self.box, self.pick])
        self.add_class("ab-picker")
        g = guarded(errors)
        self.select_all.on_click(g(lambda _: model.select_all()))
        self.select_none.on_click(g(lambda _: model.select_none()))
        self.invert.on_click(g(lambda _: model.invert()))
        self.range_box.observe(g(self._on_range_box_value), "value")
        self.pick.observe(g(self._on_pick_value), "value")
        model.observe(g(self._on_model_selected), "selected")
        model.observe(g(lambda _: self.update_enabled()), "indices")
        self.update_enabled()

    @property
    def shown(self) -> list[ImageTile]:
        """The tiles on the page, in order."""
        if self.box.layout.display == "none":
            return []
        return cast(list[ImageTile], list(self.box.children))

    def clear(self) -> None:
        """No tiles, no range, no message (another actor is being read). The grid is hidden,
        not emptied: the tiles' views stay in the page, and the next actor's tiles are new
        values in them (creating and removing 20 views costs the browser more than the
        pictures). A drawing begun before (in a background thread) does not show its grid
        again."""
        with self._showing:
            self._cleared += 1
            self.box.layout.display = "none"
        for tile in self.tiles:
            tile.forget()
        self.range_message.value = ""
        self._set_range("")

    def update_enabled(self) -> None:
        no_images = not self.model.indices
        for b in (self.select_all, self.select_none, self.invert):
            b.disabled = no_images
            b.tooltip = "This actor has no images." if no_images else ""
        self.range_box.disabled = no_images

    def _grow_tiles(self, n: int) -> None:
        while len(self.tiles) < n:
            self.tiles.append(ImageTile(layout=self._tile_layout, style=self._tile_style))

    def show_local(self, images: dict[int, Path], thumbs: Path) -> None:
        """The local images while S3 is being listed: thumbnails first, each badge saying
        the image is being checked (``show`` follows with the plan)."""
        indices = sorted(images)
        self._draw(indices, [images[i] for i in indices], thumbs, pickable=False,
                   draw=lambda tile, k, thumb, note, making: tile.show_checking(
                       indices[k], thumb, note, making))

    def show(self, plan: ActorPlan, thumbs: Path) -> None:
        """A tile per image of ``plan``, ticked as the model's picks say."""
        changes = plan.changes
        self._draw([ch.index for ch in changes],
                   [ch.local.path if ch.local else None for ch in changes], thumbs,
                   pickable=True, draw=lambda tile, k, thumb, note, making: tile.show(
                       changes[k], thumb, note=note, making=making))

    def _draw(self, indices: list[int], paths: list[Path | None], thumbs: Path,
              pickable: bool, draw: Draw) -> None:
        """A tile per image (``paths``: its local file, or None). Thumbnails on disk are drawn
        at once; the others show "…" and are drawn as each is made (a few at a time)."""
        with self._showing:
            cleared = self._cleared  # a clear() after this: the drawing is for nobody
        self._grow_tiles(len(paths))
        tiles = self.tiles[:len(paths)]
        px = self.thumb_px  # (read once: the page may say another ratio meanwhile)
        chosen = set(self.model.selected) if pickable else set()
        making: list[tuple[int, Path]] = []  # (position, file) of thumbnails not on disk yet
        for k, (tile, path) in enumerate(zip(tiles, paths, strict=True)):
            thumb = None
            if path is not None:
                try:
                    thumb = read_cached_thumbnail(path, thumbs, px)
                except OSError:
                    pass  # gone: cached_thumbnails says so below
                if thumb is None:
                    making.append((k, path))
            tile.selected = indices[k] in chosen
            draw(tile, k, thumb, "", thumb is None and path is not None)
        with self._showing:
            if self._cleared != cleared:
                return
            self.box.children = tiles
            self.box.layout.display = "flex"
        for j, made in cached_thumbnails([path for _, path in making], thumbs, px):
            if self._cleared != cleared:
                return  # (the tiles are the next actor's now)
            k = making[j][0]
            if isinstance(made, bytes):
                draw(tiles[k], k, made, "", False)
            else:  # a corrupt file gets a tile that says so
                draw(tiles[k], k, None, str(made), False)

    def tile_for(self, key: str) -> ImageTile | None:
        for tile in self.shown:
            if tile.change is not None and tile.change.key == key:
                return tile
        return None

    def _set_range(self, text: str) -> None:
        self._ticking = True
        try:
            self.range_box.value = text
        finally:
            self._ticking = False

    def _on_pick_value(self, change: dict[str, Any]) -> None:
        said = parse_pick(change["new"], PICKS, "A tile")
        if said is None:
            return  # cleared, or half-typed by hand
        action, target = said
        tile = next((t for t in self.shown if str(t.index) == target), None)
        if tile is None or tile.change is None:  # a grid no longer shown, or not listed yet
            if tile is not None and action != "preview":
                tile.redraw()  # the box stays as the picks say
            return
        if action == "preview":
            self.on_preview(tile.change)
            return
        before = tile.value
        picked = set(self.model.selected)
        if action == "tick":
            picked.add(tile.change.index)
        else:
            picked.discard(tile.change.index)
        self.model.selected = sorted(picked)
        if tile.value == before:  # the picks stayed as they were: so does the box
            tile.redraw()

    def _on_model_selected(self, change: dict[str, Any]) -> None:
        chosen = set(change["new"])
        for tile in self.shown:
            if tile.change is not None:
                tile.tick(tile.change.index in chosen)
        self._set_range(format_only(chosen or None))

    def _on_range_box_value(self, change: dict[str, Any]) -> None:
        if self._ticking:
            return
        try:
            said = self.model.pick(change["new"])
        except ActorbenchError as exc:
            self.range_message.value = h("span", str(exc), cls="ab-error")
            return
        self.range_message.value = h("span", said, cls="ab-hint")
