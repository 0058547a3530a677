"""One training image in the grid: thumbnail, status badge (colour and label), tick box and
preview button, drawn as one HTML widget.

The tick box and the button are plain ``<input data-ab-action="tick">`` and ``<button
data-ab-action="preview">`` elements carrying the image's index: the Voila page's script sends
their clicks to the grid's hidden ``pick`` box (``image_grid.py``), as it does for the
Library's cards. One widget per tile instead of five: choosing an actor sends a value per
tile and creates no widget views but the tiles'.
"""

from __future__ import annotations

import ipywidgets as w

from actorbench.present.html import Html, h
from actorbench.present.palette import IMAGE
from actorbench.present.words import (
    human_bytes as human_bytes,  # (the Cache page imports it from here)
)
from actorbench.sync.plan import Change, ImageStatus
from actorbench.ui.widgets.common import TILE_CSS_PX, data_uri, screen_px

#: the badge of a local image while S3 is being listed: its status is not known yet
CHECKING = "checking"
CHECKING_LABEL = "Checking S3 …"


def tile_thumb_px(pixel_ratio: float) -> int:
    """The side of a tile's thumbnail in image pixels (``common.screen_px``); 2x until the
    page says its screen's ratio (JupyterLab has no page script to say; a 2x thumbnail is
    sharp on any common screen). A preheated kernel draws the remembered actor's tiles
    before the visit: a 1x page has them drawn again, from the plan shown."""
    return screen_px(TILE_CSS_PX, pixel_ratio, 2)


def tile_html(index: int, thumb: bytes | None, change: Change | None = None,
              status: ImageStatus | None = None, note: str = "", selected: bool = False,
              making: bool = False, face: tuple[str, str] | None = None) -> Html:
    """One tile's markup; ``change`` None for a local image whose S3 side is not known yet
    (the badge says so, and its tick box and preview button wait for the listing);
    ``making``: its thumbnail is being made; ``face``: (finding in words, its CSS class)."""
    in_s3 = change is not None and change.remote is not None
    if thumb:  # a data URI this package made (base64): no text from a file in it
        img = h("img", src=data_uri(thumb), alt="")
    elif making:
        img = h("div", "…", cls=["ab-thumb-empty", "ab-thumb-making"])
    else:
        img = h("div", "⚠️ unreadable" if note else ("☁️ in S3" if in_s3 else "—"),
                cls="ab-thumb-empty", title=note or None)
    if change is None:
        badge = h("span", CHECKING_LABEL, cls=["ab-badge", f"ab-status-{CHECKING}"])
        waiting = "Waiting for the S3 listing"
    else:
        status = status or change.status
        label = (f"Invalid: {change.problem}" if status is ImageStatus.INVALID and change.problem
                 else IMAGE[status].label)
        badge = h("span", label, cls=["ab-badge", f"ab-status-{status.value}"])
        waiting = ""
    tick = h("label", h("input", type="checkbox", data_ab_action="tick", data_ab_target=index,
                        checked="checked" if selected else None,
                        disabled="disabled" if waiting else None),
             " select", cls="ab-tick", title=waiting or f"Pick image #{index} for a sync")
    preview = h("button", "Preview", type="button", cls="ab-tile-btn", data_ab_action="preview",
                data_ab_target=index, disabled="disabled" if waiting else None,
                title=waiting or f"Image #{index} beside the base image")
    face_badge = h("span", face[0], cls=["ab-badge", "ab-face", face[1]]) if face else ""
    return h("div", img, h("div", badge, " ", face_badge, " " if face else "",
                           h("small", f"#{index}")),
             h("div", tick, preview, cls="ab-tile-actions"),
             cls="ab-tile", data_index=index)


class ImageTile(w.HTML):
    """One training image; ``show`` draws it, ``show_checking`` before S3 is listed."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.add_class("ab-tile-slot")
        self.change: Change | None = None  # None: nothing shown, or S3 not listed yet
        self.index: int | None = None  # of the image shown
        self.selected = False
        self._drawn: tuple[bytes | None, ImageStatus | None, str, bool] = (None, None, "", False)
        self.face: tuple[str, str] | None = None  # who is in it (actorbench.faces), if known

    def show(self, change: Change, thumb: bytes | None, status: ImageStatus | None = None,
             note: str = "", making: bool = False) -> None:
        self.change, self.index = change, change.index
        self._drawn = (thumb, status, note, making)
        self._draw()

    def show_checking(self, index: int, thumb: bytes | None, note: str = "",
                      making: bool = False) -> None:
        """A local image before the S3 listing says what it is."""
        self.change, self.index = None, index
        self._drawn = (thumb, None, note, making)
        self._draw()

    def tick(self, selected: bool) -> None:
        """Tick or untick the box (the picks changed)."""
        if selected != self.selected:
            self.selected = selected
            self._draw()

    def redraw(self) -> None:
        """Draw it again even if nothing changed: a click may have left its box out of step
        with the picks (the page redraws a value only when it changes)."""
        self.value = ""
        self._draw()

    def forget(self) -> None:
        """Nothing shown (another actor is being read)."""
        self.change = self.index = None
        self.face = None

    def show_face(self, face: tuple[str, str] | None) -> None:
        """The face finding's badge (words, CSS class), or none."""
        if face != self.face:
            self.face = face
            self._draw()

    def _draw(self) -> None:
        if self.index is not None:
            thumb, status, note, making = self._drawn
            self.value = tile_html(self.index, thumb, self.change, status, note, self.selected,
                                   making, self.face)
