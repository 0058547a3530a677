"""The cards' base-image thumbnails (the Library's gallery and the Training page's version
cards use them): data URIs kept in memory, decoded off the UI thread."""

from __future__ import annotations

from pathlib import Path

from actorbench.storage.layout import Layout
from actorbench.thumbs import BadImage, cached_thumbnail, read_cached_thumbnail
from actorbench.ui.widgets.common import data_uri, screen_px

#: card thumbnails: ~5 KB each as JPEG, sharp at the card's 150 CSS pixels (on a 1x screen;
#: ``card_thumb_px`` for others)
CARD_PX = 160


def card_thumb_px(pixel_ratio: float) -> int:
    """A card thumbnail's side in image pixels (``common.screen_px``); 1x until the page says
    its screen's ratio: the cards are drawn before (a preheated kernel draws them before the
    visit), and a 2x screen gets them again, sharp, once the page has said."""
    return screen_px(CARD_PX, pixel_ratio, 1)


class CardThumbs:
    """The cards' base-image thumbnails as data URIs, ``px`` a side, kept in memory while the
    file and ``px`` are unchanged; read from the disk cache at once, decoded from the image
    off the UI thread."""

    def __init__(self, layout: Layout, px: int = CARD_PX) -> None:
        self.layout = layout
        self.px = px  # the thumbnails' side (``card_thumb_px``)
        # name -> ((file's mtime_ns, size, px), uri, note)
        self._memo: dict[str, tuple[tuple[int, int, int], str, str]] = {}

    def _source(self, name: str) -> tuple[Path, tuple[int, int, int]] | None:
        path = self.layout.base_image_path(name)
        try:
            st = path.stat()
        except OSError:
            return None
        return path, (st.st_mtime_ns, st.st_size, self.px)

    def peek(self, name: str) -> tuple[str | None, str]:
        """``(data URI, "")``; ``("", "")`` without a base image, ``("", why)`` for one that
        cannot be read; ``(None, "")`` until ``make`` has decoded it."""
        src = self._source(name)
        if src is None:
            return "", ""
        path, sig = src
        memo = self._memo.get(name)
        if memo is not None and memo[0] == sig:
            return memo[1], memo[2]
        try:
            data = read_cached_thumbnail(path, self.layout.thumbs_dir(), sig[2])
        except OSError:
            data = None
        if data is None:
            return None, ""
        self._memo[name] = (sig, data_uri(data), "")
        return self._memo[name][1], ""

    def stand_in(self, name: str) -> str | None:
        """The thumbnail last drawn at another size, the file unchanged: shown while ``make``
        makes this size (the screen's ratio changed), rather than no picture."""
        src, memo = self._source(name), self._memo.get(name)
        if src is None or memo is None or memo[0][:2] != src[1][:2] or not memo[1]:
            return None
        return memo[1]

    def make(self, names: list[str]) -> bool:
        """Decode what ``peek`` could not give yet; True if any card can now show more."""
        made = False
        for name in names:
            src = self._source(name)
            if src is None:
                continue
            path, sig = src
            try:
                uri, note = data_uri(cached_thumbnail(path, self.layout.thumbs_dir(),
                                                      sig[2])), ""
            except BadImage:
                uri, note = "", "Unreadable base image"
            except OSError:
                continue  # gone meanwhile: the next render says so
            self._memo[name] = (sig, uri, note)
            made = True
        return made
