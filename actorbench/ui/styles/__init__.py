"""The dashboard's CSS, kept as files (package data) rather than Python strings.

``style_sheet`` joins them into the one ``<style>`` the app draws once; a page adds no style of
its own (a replaced style sheet makes the browser restyle the whole page).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib.resources import files


def read_css(name: str) -> str:
    """``ui/styles/<name>`` as text."""
    return files(__package__ or "actorbench.ui.styles").joinpath(name).read_text("utf-8")


def style_sheet(names: Iterable[str], extra: str = "",
                variables: Mapping[str, str] | None = None) -> str:
    """One ``<style>``: custom properties on ``:root`` (sizes Python decides), the files, then
    ``extra`` (rules made from Python data: the palette's status colours)."""
    root = "".join(f"{k}:{v};" for k, v in (variables or {}).items())
    parts = [f":root {{ {root} }}\n" if root else "", *(read_css(n) for n in names), extra]
    return "\n<style>\n" + "".join(parts) + "\n</style>\n"
