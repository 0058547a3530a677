"""The Training Data page's preview: the base image beside one training image."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from actorbench.present.html import h, join
from actorbench.sync.plan import Change
from actorbench.thumbs import thumbnail_bytes
from actorbench.ui.mvc import PageModel, run_in_background
from actorbench.ui.state import AppState
from actorbench.workbench import Workbench


def read_preview(wb: Workbench, change: Change) -> tuple[bytes | None, bytes, str]:
    """(base image thumbnail or None, the image's bytes, where they came from). An image only
    in S3 is fetched, never written to disk. Blocking: pages call it off the UI thread."""
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


class PreviewPanel(w.VBox):
    """Hidden until ``show``; ``clear`` forgets the images (another actor, a finished sync)."""

    def __init__(self) -> None:
        self.left = w.Image(format="jpeg", layout=w.Layout(width="48%"))
        self.right = w.Image(format="png", layout=w.Layout(width="48%"))
        self.caption = w.HTML()
        self.actor = ""  # whose image is shown ("" when none is)
        super().__init__([self.caption, w.HBox([self.left, self.right])])
        self.add_class("ab-preview")
        self.layout.display = "none"

    def show(self, change: Change, left: bytes | None, right: bytes, where: str) -> None:
        self.left.value = left or b""
        self.left.layout.display = "block" if left else "none"
        self.right.format = "png"
        self.right.value = right
        self.caption.value = join([h("b", "Base image"), " vs ", h("b", f"#{change.index}"),
                                   f" ({where})"])
        self.actor = change.actor
        self.layout.display = "flex"

    def clear(self) -> None:
        self.layout.display = "none"
        self.caption.value = ""
        self.left.value = self.right.value = b""
        self.actor = ""

    def fetch(self, state: AppState, model: PageModel, change: Change | None,
              on_shown: Callable[[], None] | None = None) -> None:
        """The base image beside ``change``'s image; an image only in S3 is fetched (off the
        UI thread), never written to disk. ``on_shown`` runs once it is drawn."""
        if change is None:
            return

        def show(shown: tuple[bytes | None, bytes, str]) -> None:
            if state.actor == change.actor:  # not for an actor no longer shown
                self.show(change, *shown)
                if on_shown is not None:
                    on_shown()

        run_in_background(model, lambda: read_preview(state.wb, change), on_done=show)
