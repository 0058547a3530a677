"""The Training Data page's grid of tiles, and the picks: tick boxes, select all / none /
invert, and an index range box (``0-9,12``, the CLI's ``--only``). The picks live in the
page's ``TrainingDataModel``; this widget shows them and changes them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w

from ..errors import ActorbenchError
from ..sync.plan import ActorPlan, Change
from ..sync.selection import format_only
from ..thumbs import BadImage, cached_thumbnail
from .common import ErrorBox, guarded
from .html import h
from .models import TrainingDataModel
from .tiles import ImageTile


class ImageGrid(w.VBox):
    def __init__(self, model: TrainingDataModel, errors: ErrorBox, up_front: int,
                 on_preview: Callable[[Change | None], None]) -> None:
        self.model = model
        self.errors = errors
        self.on_preview = on_preview
        self._ticking = False  # boxes and range box are being set from the model: not a pick
        self.select_all = w.Button(description="Select all", layout=w.Layout(width="auto"))
        self.select_none = w.Button(description="Select none", layout=w.Layout(width="auto"))
        self.invert = w.Button(description="Invert", layout=w.Layout(width="auto"))
        self.range_box = w.Text(placeholder="e.g. 0-9,12", description="Images",
                                continuous_update=False, layout=w.Layout(width="240px"))
        self.range_box.add_class("ab-range-box")
        self.range_message = w.HTML()
        self.range_message.add_class("ab-range-message")
        self.tiles: list[ImageTile] = []
        # a typical actor's tiles exist before anyone picks one: they travel with the page
        # (a preheated kernel builds them early), so choosing an actor only sends new values
        self._grow_tiles(up_front)
        self.box = w.Box(layout=w.Layout(display="flex", flex_flow="row wrap"))
        self.box.add_class("ab-grid")
        self.toolbar = w.HBox([self.select_all, self.select_none, self.invert, self.range_box,
                               self.range_message])  # (the page places it by its buttons)
        super().__init__([self.box])
        g = guarded(errors)
        self.select_all.on_click(g(lambda _: model.select_all()))
        self.select_none.on_click(g(lambda _: model.select_none()))
        self.invert.on_click(g(lambda _: model.invert()))
        self.range_box.observe(g(self._on_range_box_value), "value")
        model.observe(g(self._on_model_selected), "selected")
        model.observe(g(lambda _: self.update_enabled()), "indices")
        self.update_enabled()

    def clear(self) -> None:
        """No tiles, no range, no message (another actor is being read)."""
        self.box.children = []
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
            tile = ImageTile()
            tile.preview.on_click(guarded(self.errors)(
                lambda _, tile=tile: self.on_preview(tile.change)))
            tile.select.observe(self._on_tile_select_value, "value")
            self.tiles.append(tile)

    def show(self, plan: ActorPlan, thumbs: Path) -> None:
        """A tile per image of ``plan``, ticked as the model's picks say."""
        changes = plan.changes
        self._grow_tiles(len(changes))
        chosen = set(self.model.selected)
        self._ticking = True
        try:
            for tile, ch in zip(self.tiles, changes, strict=False):
                tile.select.value = ch.index in chosen
                try:
                    thumb = cached_thumbnail(ch.local.path, thumbs) if ch.local else None
                except BadImage as exc:  # a corrupt file gets a tile that says so
                    tile.show(ch, None, note=str(exc))
                    continue
                tile.show(ch, thumb)
        finally:
            self._ticking = False
        self.box.children = self.tiles[:len(changes)]

    def tile_for(self, key: str) -> ImageTile | None:
        for tile in self.tiles:
            if tile.change is not None and tile.change.key == key:
                return tile
        return None

    def _set_range(self, text: str) -> None:
        self._ticking = True
        try:
            self.range_box.value = text
        finally:
            self._ticking = False

    def _on_tile_select_value(self, _: object) -> None:
        if self._ticking:
            return
        self.model.selected = [tile.change.index for tile in self.tiles[:len(self.box.children)]
                               if tile.select.value and tile.change is not None]

    def _on_model_selected(self, change: dict[str, Any]) -> None:
        chosen = set(change["new"])
        self._ticking = True
        try:
            for tile in self.tiles:
                if tile.change is not None:
                    tile.select.value = tile.change.index in chosen
        finally:
            self._ticking = False
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
