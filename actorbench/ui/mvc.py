"""Work off the UI thread, with its errors on the page: ``PageModel`` and ``run_in_background``.

Every page model derives from ``PageModel``: a ``busy`` flag while background work runs, the
last ``message`` and the last ``error`` (the page's ``ErrorBox`` shows it). Tests, and anything
else that must see the result of a click, call ``model.wait_idle()``.

Usage::

    run_in_background(model, lambda: state.plan(name), on_done=render)
    model.wait_idle(30)
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import traitlets as t

from actorbench.errors import ActorbenchError, describe_error

R = TypeVar("R")


class PageModel(t.HasTraits):
    """What every page's model has besides its own state."""

    busy = t.Bool(False)  # background work of this page is running
    message = t.Unicode("")  # the last thing the page told the user
    error = t.Unicode("")  # the last error, one line; "" when there is none

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._jobs = 0
        self._idle = threading.Condition()
        self.last_traceback = ""  # of the last unexpected error: for a developer, not shown

    def show_error(self, exc: BaseException | str) -> None:
        self.error = exc if isinstance(exc, str) else describe_error(exc)
        if not isinstance(exc, str | ActorbenchError):
            self.last_traceback = "".join(traceback.format_exception(exc))

    def clear_error(self) -> None:
        self.error = ""

    def reset(self) -> None:
        """Back to how the page opens (subclasses reset their own state, then call this)."""
        self.message = ""
        self.error = ""

    # -- background work ---------------------------------------------------------------------
    def job_started(self) -> None:
        with self._idle:
            self._jobs += 1
            self.busy = True

    def job_ended(self) -> None:
        with self._idle:
            self._jobs -= 1
            if self._jobs == 0:
                self.busy = False
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 120.0) -> bool:
        """Block until no background work of this page runs; False if ``timeout`` passed."""
        deadline = time.monotonic() + timeout
        with self._idle:
            return self._idle.wait_for(lambda: self._jobs == 0,
                                       max(0.0, deadline - time.monotonic()))


def run_in_background(model: PageModel, fn: Callable[[], R],
                      on_done: Callable[[R], object] | None = None,
                      on_error: Callable[[BaseException], object] | None = None,
                      name: str = "actorbench-ui", busy: bool = True) -> threading.Thread:
    """Run ``fn`` in a thread, then ``on_done(result)`` there; an exception goes to
    ``on_error`` (default: the page's error box), and one raised by ``on_done`` or ``on_error``
    to the error box too: none is lost. ``model.busy`` is True from this call until both ran
    (unless ``busy=False``: a watcher that may run for an hour, like a training's poller)."""
    if busy:
        model.job_started()

    def run() -> None:
        try:
            try:
                result = fn()
            except Exception as exc:  # shown on the page, by design
                (on_error or model.show_error)(exc)
            else:
                if on_done is not None:
                    on_done(result)
        except Exception as exc:
            model.show_error(exc)
        finally:
            if busy:
                model.job_ended()

    thread = threading.Thread(target=run, daemon=True, name=name)
    try:
        thread.start()
    except BaseException:  # no thread (the machine is out of them): not busy forever
        if busy:
            model.job_ended()
        raise
    return thread


#: the two ways a sync runs
DIRECTIONS = ("pull", "push")


def direction(proposal: dict[str, Any]) -> str:
    """A traitlets validator: a sync direction is "", "pull" or "push"."""
    import traitlets as t

    if proposal["value"] not in ("", *DIRECTIONS):
        raise t.TraitError(f"a sync is a pull or a push, not {proposal['value']!r}")
    return str(proposal["value"])
