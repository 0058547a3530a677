"""One training image in the grid: thumbnail, status badge (colour and label), select box."""

from __future__ import annotations

import ipywidgets as w

from ..palette import IMAGE
from ..sync.plan import Change, ImageStatus
from .common import data_uri, esc
from .words import human_bytes as human_bytes  # (the Cache page imports it from here)


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
                 else IMAGE[status].label)
        self.html.value = (
            f'<div class="ab-tile-body" data-index="{change.index}">{img}<div>'
            f'<span class="ab-badge ab-status-{status.value}">{esc(label)}</span> '
            f"<small>#{change.index}</small></div></div>")
