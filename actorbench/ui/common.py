"""Shared bits of the dashboard: CSS, error boxes, background work with visible errors."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from ..errors import describe_error
from ..palette import status_css
from ..workbench import Workbench
from .background import PageModel, run_in_background
from .html import esc as esc  # (pages import it from here as well as from .html)
from .html import h

CSS = """
<style>
.ab-title { font-size: 1.4em; font-weight: 600; margin: 4px 0 8px 0; }
.ab-error { background:#fdecea; color:#8a1c1c; border:1px solid #f5c2c0; padding:6px 10px;
            border-radius:4px; white-space:pre-wrap; }
.ab-ok { background:#eaf6ec; color:#1e5d2b; border:1px solid #bfe3c6; padding:6px 10px;
         border-radius:4px; }
.ab-badge { display:inline-block; padding:1px 7px; border-radius:9px; font-size:11px;
            font-weight:600; color:white; }
""" + status_css() + """
.ab-unrecognised { font-size:12px; color:#555; }
.ab-tile { border:1px solid #ddd; border-radius:6px; padding:4px; margin:3px; width:150px; }
.ab-tile img { width:140px; height:140px; object-fit:cover; border-radius:4px; }
.ab-thumb-empty { width:140px; height:140px; display:flex; align-items:center;
                  justify-content:center; background:#eef2f7; color:#456; border-radius:4px; }
.ab-card img { max-width:220px; border-radius:6px; }
.ab-table td, .ab-table th { padding:2px 8px; }
.ab-counts span { margin-right: 6px; }
</style>
"""


def data_uri(data: bytes, mime: str = "image/jpeg") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def base_image_html(wb: Workbench, name: str, missing: str = "") -> str:
    """The actor's base image as a thumbnail ``<img>``; ``missing`` if there is none, and a
    message (not an exception) if the file is not a readable image."""
    from ..thumbs import BadImage, cached_thumbnail

    base = wb.layout.base_image_path(name)
    if not base.exists():
        return missing
    try:
        thumb = cached_thumbnail(base, wb.layout.thumbs_dir())
    except BadImage as exc:
        return h("div", exc, cls="ab-error")
    return f'<img class="ab-base-image" src="{data_uri(thumb)}">'


def error_html(message: str) -> str:
    return h("div", "⚠️ ", message, cls="ab-error")


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
            except Exception as exc:  # noqa: BLE001 - shown to the user, by design
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
            except Exception as exc:  # noqa: BLE001 - shown; ``done`` still runs
                model.show_error(exc)
            if done:
                done()

        self.thread = run_in_background(model, job, busy=self.counts_as_busy)
        return True

    def wait(self, timeout: float = 120.0) -> None:
        if self.thread is not None:
            self.thread.join(timeout)
