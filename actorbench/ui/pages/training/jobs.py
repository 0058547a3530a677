"""Following the Training page's jobs: one poll at a time, for the actor chosen now."""

from __future__ import annotations

import threading
from collections.abc import Callable

from actorbench.training import TrainingService, TrainingVersion
from actorbench.training.status import ACTIVE
from actorbench.ui.state import AppState
from actorbench.ui.widgets.common import ErrorBox, Worker


class JobFollower:
    """Polls the chosen actor's unfinished jobs off the UI thread and hands each update to
    ``on_update`` (called on the poll's thread, for the actor still chosen only)."""

    def __init__(self, state: AppState, service: Callable[[], TrainingService],
                 errors: ErrorBox, on_update: Callable[[list[TrainingVersion]], None]) -> None:
        self.state, self.service, self.on_update = state, service, on_update
        self.poller = Worker(errors, busy=False)  # follows jobs for up to an hour
        self._stop = threading.Event()  # set: the running poll stops
        self._polling = ""  # whose jobs the running poll follows
        self._lock = threading.RLock()

    def start(self) -> None:
        """Follow the chosen actor's unfinished jobs off the UI thread; resumes whenever the
        page is opened. Another actor chosen meanwhile: the last one's poll stops at its next
        wait, draws nothing more, and the poll starts again for the actor chosen now."""
        with self._lock:
            actor = self.state.actor
            if not actor:
                return
            if self.poller.busy:
                if self._polling != actor:
                    self._stop.set()  # its end starts the chosen actor's poll
                return
            versions = self.service().versions.load(self.state.wb.registry.get(actor).id)
            if not any(v.status in ACTIVE for v in versions):
                return
            stop = self._stop = threading.Event()
            self._polling = actor

            def update(versions: list[TrainingVersion]) -> None:
                if not stop.is_set() and self.state.actor == actor:
                    self.on_update(versions)

            def job() -> None:
                self.service().poll_until_done(actor, timeout=3600, interval=0.5,
                                               on_update=update, stop=stop)

            def done() -> None:
                if stop.is_set():  # stopped for another actor: follow that one's jobs
                    with self._lock:
                        self.poller.thread = None  # (this thread is ending)
                    self.start()

            self.poller.start(job, done)
