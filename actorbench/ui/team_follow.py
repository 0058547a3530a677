"""Team mode on the pages: one ``TeamWatch`` per app tells each page what another workstation
changed in the bucket (a ledger, a mark, saved parameters), without a reload.

Usage::

    follower = follow_team(state, lambda names: ...)   # None when team mode is off
    follower.stop()                                    # (tests; a closed kernel ends it)
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from actorbench.team.documents import REGISTRY_DOC
from actorbench.team.watch import TeamWatch
from actorbench.ui.state import AppState

#: how often the pages look at the shared documents' ETags (one listing each time)
TEAM_POLL_S = 2.0
Listener = Callable[[set[str]], None]
ErrorSink = Callable[[BaseException], None]


class TeamFollower:
    """Polls ``wb.team`` off the UI thread; when documents changed, the registry is read again
    (the mark and new actors come into ``actors.json``), then every listener hears the names.
    An error (the bucket unreachable for a while) goes to the pages' error sinks; polling goes
    on."""

    def __init__(self, state: AppState, interval: float = TEAM_POLL_S) -> None:
        assert state.wb.team is not None
        self.state, self.interval = state, interval
        self.watch = TeamWatch(state.wb.team, self._on_change, interval)
        self.listeners: list[tuple[Listener, ErrorSink | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="actorbench-team-watch")
        self._thread.start()

    def add(self, listener: Listener, on_error: ErrorSink | None = None) -> None:
        self.listeners.append((listener, on_error))

    def _run(self) -> None:
        first = True
        while first or not self._stop.wait(self.interval):
            first = False  # the first look only notes what is there
            try:
                self.watch.check()
            except Exception as exc:  # said on the pages; the next look retries
                for _, on_error in list(self.listeners):
                    if on_error is not None:
                        on_error(exc)

    def _on_change(self, names: set[str]) -> None:
        if REGISTRY_DOC in names:
            self.state.wb.reload_registry()  # the team's marks and actors, into actors.json
        for listener, on_error in list(self.listeners):
            try:
                listener(names)
            except Exception as exc:  # one page's failure is its own
                if on_error is not None:
                    on_error(exc)

    def stop(self) -> None:
        self._stop.set()


def follow_team(state: AppState, listener: Listener, on_error: ErrorSink | None = None
                ) -> TeamFollower | None:
    """Add ``listener`` to the app's follower (started on first use); None outside team
    mode."""
    if state.wb.team is None:
        return None
    follower: TeamFollower | None = getattr(state, "_team_follower", None)
    if follower is None:
        follower = TeamFollower(state)
        state._team_follower = follower  # type: ignore[attr-defined]
    follower.add(listener, on_error)
    return follower
