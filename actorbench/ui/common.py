"""Shared bits of the dashboard: CSS, error boxes, background work with visible errors."""

from __future__ import annotations

import base64
import math
import re
import threading
from collections.abc import Callable, Collection
from typing import Any

import ipywidgets as w

from ..errors import ActorbenchError, describe_error
from ..palette import status_css
from ..workbench import Workbench
from .background import PageModel, run_in_background
from .cards import actor_header as actor_header  # (for every page's header)
from .cards import empty_state as empty_state  # (what is missing, and what to do about it)
from .html import esc as esc  # (pages import it from here as well as from .html)
from .html import h

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

CSS = """
<style>
.ab-title { font-size: 1.4em; font-weight: 600; margin: 4px 0 8px 0; }
.ab-header { display:flex; align-items:baseline; gap:16px; margin:4px 0 8px 0; }
.ab-header .ab-title { margin:0; }
.ab-actor-header { font-size:1.15em; color:#1d3047; }
.ab-actor-header-none { color:#777; font-style:italic; }
.ab-empty-state { background:#f4f7fb; border:1px dashed #8fa3b8; border-radius:6px;
                  padding:8px 12px; color:#1d3047; margin:6px 0; }
.ab-empty-state code { overflow-wrap:anywhere; }
.ab-pager { align-items:center; }
.ab-result-count { min-width:110px; }
.ab-gallery { display:grid; grid-template-columns:repeat(auto-fill, minmax(168px, 1fr));
              gap:10px; margin-top:6px; }
.ab-gcard { border:1px solid #d5dbe3; border-radius:8px; padding:6px; background:#fff;
            cursor:pointer; display:flex; flex-direction:column; gap:3px; font-size:12px;
            line-height:1.35; }
.ab-gcard:hover { border-color:#6a9bd1; box-shadow:0 1px 4px rgba(0,0,0,.15); }
.ab-gcard-selected { border:2px solid #0072B2; box-shadow:0 0 0 2px rgba(0,114,178,.25); }
.ab-gthumb { width:100%; aspect-ratio:1/1; object-fit:cover; border-radius:6px; display:block; }
.ab-gthumb-empty { display:flex; align-items:center; justify-content:center;
                   background:#eef2f7; color:#567; }
.ab-gcard-id { all:unset; font-weight:700; font-size:14px; cursor:pointer; }
.ab-gcard-id:focus-visible, .ab-gbtn:focus-visible { outline:2px solid #0072B2; }
.ab-gcard-counts { color:#444; }
.ab-chips { display:flex; flex-wrap:wrap; gap:3px; min-height:18px; }
.ab-chip { display:inline-block; padding:1px 7px; border-radius:9px; font-size:11px;
           font-weight:600; line-height:16px; }
.ab-chip-validated { background:#e6f4ea; color:#1e5d2b; border:1px solid #9fd3ad; }
.ab-gcard-actions { display:none; gap:4px; margin-top:auto; }
.ab-js .ab-gcard-actions { display:flex; }  /* the page's script makes the buttons work */
.ab-gbtn { flex:1; font-size:12px; padding:3px 2px; border:1px solid #9aa8b8;
           border-radius:4px; background:#f3f6fa; cursor:pointer; }
.ab-gbtn:hover:not(:disabled) { background:#e2ebf5; }
.ab-gbtn:disabled { opacity:.45; cursor:not-allowed; }
.ab-actor-card { display:flex; gap:12px; align-items:flex-start; }
.ab-chosen { flex:1; margin-left:16px; }
.ab-error { background:#fdecea; color:#8a1c1c; border:1px solid #f5c2c0; padding:6px 10px;
            border-radius:4px; white-space:pre-wrap; }
.ab-ok { background:#eaf6ec; color:#1e5d2b; border:1px solid #bfe3c6; padding:6px 10px;
         border-radius:4px; }
.ab-badge { display:inline-block; padding:1px 7px; border-radius:9px; font-size:11px;
            font-weight:600; color:white; }
""" + status_css() + """
.ab-unrecognised { font-size:12px; color:#555; }
.ab-status-checking { background:#eef2f7; color:#1d3047; }  /* S3 not listed yet */
.ab-face-same { background:#2e7d32; } .ab-face-other { background:#c62828; }
.ab-face-no-face { background:#6d4c41; } .ab-face-faces { background:#ef6c00; }
.ab-face-small { background:#8d6e00; } .ab-face-blurred { background:#6a4fb0; }
.ab-face-unreadable { background:#616161; }  /* actorbench.faces findings (face_badges) */
.ab-card .ab-base-image, .ab-actor-card .ab-base-image {
  max-width:""" + f"{BASE_CSS_PX}px; max-height:{BASE_CSS_PX}px;" + """ }
.ab-tile { border:1px solid #ddd; border-radius:6px; padding:4px; margin:3px; width:150px;
           line-height:1.35; }
.ab-tile img { width:""" + f"{TILE_CSS_PX}px; height:{TILE_CSS_PX}px;" + """
               object-fit:cover; border-radius:4px; display:block; }
.ab-thumb-empty { width:""" + f"{TILE_CSS_PX}px; height:{TILE_CSS_PX}px;" + """
                  display:flex; align-items:center; justify-content:center;
                  background:#eef2f7; color:#456; border-radius:4px; }
.ab-tile-actions { display:none; align-items:center; justify-content:space-between;
                   margin-top:3px; font-size:12px; }
.ab-js .ab-tile-actions { display:flex; }  /* the page's script makes the controls work */
.ab-tick { display:flex; align-items:center; gap:3px; cursor:pointer; }
.ab-tile-btn { font-size:12px; padding:2px 8px; border:1px solid #9aa8b8; border-radius:4px;
               background:#f3f6fa; cursor:pointer; }
.ab-tile-btn:hover:not(:disabled) { background:#e2ebf5; }
.ab-tile-btn:focus-visible, .ab-tick input:focus-visible { outline:2px solid #0072B2; }
.ab-tile-btn:disabled, .ab-tick:has(input:disabled) { opacity:.45; cursor:not-allowed; }
.ab-card img { max-width:220px; border-radius:6px; }
.ab-table td, .ab-table th { padding:2px 8px; }
.ab-counts span { margin-right: 6px; }
.ab-warn { background:#fff4e0; color:#6b4200; border:1px solid #f0c36d; padding:6px 10px;
           border-radius:4px; }
li.ab-warning { color:#6b4200; } li.ab-blocker { color:#8a1c1c; }
.ab-hint { color:#445; font-size:12px; margin:2px 0; }
.ab-ok-text { color:#1e5d2b; }
.ab-nowrap { white-space:nowrap; }
.ab-progress-label { font-size:12px; color:#333; margin-left:8px; white-space:nowrap; }
.ab-report-grid { width:100%; table-layout:auto; }
.ab-report-grid td, .ab-report-grid th { overflow-wrap:break-word; vertical-align:top; }
.ab-report-grid .ab-col-status .ab-badge { margin:1px 2px; }
</style>
"""


def data_uri(data: bytes, mime: str = "image/jpeg") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def base_image_html(wb: Workbench, name: str, missing: str = "", pixel_ratio: float = 0) -> str:
    """The actor's base image as a thumbnail ``<img>``; ``missing`` if there is none, and a
    message (not an exception) if the file is not a readable image."""
    from ..thumbs import BadImage, cached_thumbnail

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
    see ``voila_page/index.html.j2``): ``(action, target)``, or None for a cleared or
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
