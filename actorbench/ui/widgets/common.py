"""Shared bits of the dashboard: CSS, error boxes, background work with visible errors."""

from __future__ import annotations

import base64
import math
import re
import threading
from collections.abc import Callable, Collection
from typing import Any, TypeVar

import ipywidgets as w

from actorbench.errors import ActorbenchError, describe_error
from actorbench.present.html import esc as esc  # (pages import it from here as well as from .html)
from actorbench.present.html import h
from actorbench.present.palette import status_css
from actorbench.ui.mvc import PageModel, run_in_background
from actorbench.ui.styles import style_sheet
from actorbench.ui.widgets.actor_card import (
    actor_header as actor_header,  # (for every page's header)
)
from actorbench.ui.widgets.actor_card import (
    empty_state as empty_state,  # (what is missing, and what to do about it)
)
from actorbench.workbench import Workbench

#: a tile's thumbnail on the page, in CSS pixels (``tiles.tile_thumb_px`` sizes the image)
TILE_CSS_PX = 140
#: what the page script writes for the screen's pixel ratio (ASCII digits only: ``\d`` and
#: ``float`` would also take other scripts' digits and ``_``)
_RATIO = re.compile(r"[0-9]{1,2}(\.[0-9]{1,20})?")
#: the base image beside an actor's details (Library, Training Data), at most this many CSS
#: pixels a side
BASE_CSS_PX = 220


def screen_px(css_px: int, pixel_ratio: float, unknown: int) -> int:
    """The side, in image pixels, of a picture shown ``css_px`` CSS pixels wide on a screen
    with ``pixel_ratio`` device pixels per CSS pixel (``AppState.pixel_ratio``): as many as
    the screen shows, so it is sharp and carries no pixel the screen drops. Three sizes (1x,
    2x, 3x), so the thumbnail cache holds few copies: a ratio rounds up, except one within
    0.05 above a whole number (browser zoom steps give ratios like 1.0000001);
    ``unknown`` x while the page has not said (0)."""
    if pixel_ratio > 0 and math.isfinite(pixel_ratio):
        steps = math.ceil(pixel_ratio - 0.05)
    else:
        steps = unknown
    return css_px * max(1, min(3, steps))

#: the dashboard's style sheet: ui/styles/*.css (package data) and the palette's badge colours
CSS = style_sheet(["base.css", "training.css", "connection.css"], status_css(),
                  {"--ab-base-px": f"{BASE_CSS_PX}px", "--ab-tile-px": f"{TILE_CSS_PX}px"})


def data_uri(data: bytes, mime: str = "image/jpeg") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def base_image_html(wb: Workbench, name: str, missing: str = "", pixel_ratio: float = 0) -> str:
    """The actor's base image as a thumbnail ``<img>``; ``missing`` if there is none, and a
    message (not an exception) if the file is not a readable image."""
    from actorbench.thumbs import BadImage, cached_thumbnail

    base = wb.layout.base_image_path(name)
    if not base.exists():
        return missing
    try:
        thumb = cached_thumbnail(base, wb.layout.thumbs_dir(),
                                 screen_px(BASE_CSS_PX, pixel_ratio, 1))
    except BadImage as exc:
        return h("div", exc, cls="ab-error")
    return f'<img class="ab-base-image" src="{data_uri(thumb)}">'


def resized(change: dict[str, Any], css_px: int, unknown: int) -> bool:
    """Whether a change of ``AppState.pixel_ratio`` (a traitlets change) changes the size
    ``screen_px`` gives a picture shown ``css_px`` wide: only then is it drawn again."""
    return screen_px(css_px, change["old"], unknown) != screen_px(css_px, change["new"], unknown)


def parse_pixel_ratio(value: str) -> float | None:
    """The screen's device pixels per CSS pixel, as the page script writes it into the hidden
    ``.ab-screen`` box (``String(window.devicePixelRatio)``: digits, maybe a fraction); None
    for anything else (cleared, typed by hand, forged) and for a ratio outside 0.25-8."""
    if len(value) > 32 or not _RATIO.fullmatch(value):
        return None
    ratio = float(value)
    return ratio if 0.25 <= ratio <= 8 else None


def parse_pick(value: str, known: Collection[str], what: str) -> tuple[str, str] | None:
    """What the page script wrote into a hidden pick box (``"<action> <target> <nonce>"``,
    see ``server/templates/index.html.j2``): ``(action, target)``, or None for a cleared or
    half-typed value. An action not ``known`` is refused, saying that ``what`` (a card, a
    tile) has no such control: a forged click is an error on the page, never a guess."""
    parts = str(value).split()
    if len(parts) < 2:
        return None
    action, target = parts[0], parts[1]
    if action not in known:
        raise ActorbenchError(f"{what} has no {action!r} control.")
    return action, target


def error_html(message: str) -> str:
    return h("div", "⚠ ", message, cls="ab-error")  # (a glyph every font has; no emoji)


describe = describe_error  # (the one describer lives in actorbench.errors)


class ErrorBox(w.HTML):
    """Where errors raised in callbacks land: on the page, never lost in a log. It shows its
    page model's ``error`` (a model of its own when the page passes none)."""

    def __init__(self, model: PageModel | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model if model is not None else PageModel()
        w.dlink((self.model, "error"), (self, "value"), lambda e: error_html(e) if e else "")

    def show(self, exc: BaseException | str) -> None:
        self.model.show_error(exc)

    def clear(self) -> None:
        self.model.clear_error()

    @property
    def last_traceback(self) -> str:
        return self.model.last_traceback


def guarded(box: ErrorBox) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a widget handler so any exception is shown in ``box``."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # shown to the user, by design
                box.show(exc)
                return None

        wrapper.__name__ = getattr(fn, "__name__", "handler")
        return wrapper

    return deco


class Worker:
    """Runs one job at a time off the UI thread (``run_in_background`` on the box's model, so
    ``model.wait_idle()`` waits for it too, unless ``busy=False``); ``done`` runs after it,
    failed or not; errors of either go to the box."""

    def __init__(self, box: ErrorBox, busy: bool = True) -> None:
        self.box = box
        self.counts_as_busy = busy
        self.thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, fn: Callable[[], None], done: Callable[[], None] | None = None) -> bool:
        if self.busy:
            return False
        model = self.box.model

        def job() -> None:
            try:
                fn()
            except Exception as exc:  # shown; ``done`` still runs
                model.show_error(exc)
            if done:
                done()

        self.thread = run_in_background(model, job, busy=self.counts_as_busy)
        return True

    def wait(self, timeout: float = 120.0) -> None:
        if self.thread is not None:
            self.thread.join(timeout)


W = TypeVar("W", bound=w.DOMWidget)


def classed(widget: W, *classes: str) -> W:
    """``widget`` with these CSS classes (the ``ab-*`` names tests and styles select on)."""
    for cls in classes:
        widget.add_class(cls)
    return widget
