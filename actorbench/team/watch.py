"""Follow the team: poll the shared documents' ETags (one listing) and say what changed.

For the dashboard: ``TeamWatch(team, on_change).start()`` calls ``on_change(names)`` off the
UI thread whenever another workstation wrote a ledger, a mark or saved parameters; the page
then reloads only what it shows. No widgets here.

Usage::

    watch = TeamWatch(wb.team, lambda names: model.set_trait("team_changes",
                                                             model.team_changes + 1))
    watch.start()      # ... watch.stop() when the page closes
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..errors import ActorbenchError
from .shared import Team, changed_documents


class TeamWatch:
    def __init__(self, team: Team, on_change: Callable[[set[str]], None],
                 interval: float = 5.0, on_error: Callable[[Exception], None] | None = None
                 ) -> None:
        self.team, self.on_change, self.interval = team, on_change, interval
        self.on_error = on_error
        self.last: dict[str, str] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> set[str]:
        """One poll: the documents changed since the last one (nothing on the first)."""
        now = self.team.fingerprint()
        changed = changed_documents(self.last, now) if self.last is not None else set()
        self.last = now
        if changed:
            self.on_change(changed)
        return changed

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except ActorbenchError as exc:  # a network blip: say so, keep watching
                if self.on_error is not None:
                    self.on_error(exc)

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self.check()
            self._thread = threading.Thread(target=self._run, daemon=True, name="team-watch")
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
