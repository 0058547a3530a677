"""An asyncio loop on a daemon thread, and the aiohttp session living on it.

The bulk getter keeps both between runs (the dashboard's next pull starts warm). They are
closed by :meth:`LoopThread.stop`, when the owner is dropped, or at exit: aiohttp reports an
unclosed session on stderr, which a user must never see.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from typing import Any


class LoopThread:
    """Usage::

        thread = LoopThread("actorbench-bulk")
        asyncio.run_coroutine_threadsafe(work(), thread.loop()).result()
        thread.stop()
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._state = _State()
        self._lock = threading.Lock()
        weakref.finalize(self, _shutdown, self._state)

    @property
    def client(self) -> Any:
        """The aiohttp session (touched only on the loop thread), or None."""
        return self._state.client

    @client.setter
    def client(self, value: Any) -> None:
        self._state.client = value

    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop, started on first use (and again after :meth:`stop`)."""
        with self._lock:
            state = self._state
            if state.loop is None or state.loop.is_closed():
                loop = asyncio.new_event_loop()
                state.thread = threading.Thread(target=_run, args=(loop,), name=self.name,
                                                daemon=True)
                state.loop, state.client = loop, None
                state.thread.start()
            return state.loop

    def stop(self) -> None:
        """Close the session on its loop, then stop the loop (waits up to 2 s)."""
        _shutdown(self._state)


class _State:
    """What the finalizer may touch (never the owner, or it would keep it alive)."""

    loop: asyncio.AbstractEventLoop | None = None
    thread: threading.Thread | None = None
    client: Any = None


def _run(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()
    loop.close()


def _shutdown(state: _State) -> None:
    loop, state.loop = state.loop, None
    if loop is None or loop.is_closed():
        return

    async def stop() -> None:
        if state.client is not None:
            with contextlib.suppress(Exception):
                await state.client.close()
            state.client = None
        loop.call_soon(loop.stop)

    done = asyncio.run_coroutine_threadsafe(stop(), loop)
    if threading.current_thread() is not state.thread:  # never wait on the loop's own thread
        with contextlib.suppress(Exception):
            done.result(timeout=2)
