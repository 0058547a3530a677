"""State shared by the pages: the workbench and which actor is selected."""

from __future__ import annotations

import threading
import time

import traitlets as t

from ..sync.plan import ActorPlan
from ..workbench import Workbench

#: pages reacting to the same actor change share one plan (one S3 listing), if this fresh
PLAN_MAX_AGE_S = 2.0


class AppState(t.HasTraits):
    """The selected actor; pages observe ``actor`` and ``revision`` (bumped after changes)."""

    actor = t.Unicode("")
    revision = t.Int(0)
    open_page = t.Unicode("")  # a page asks the app to switch tabs

    def __init__(self, wb: Workbench) -> None:
        super().__init__()
        self.wb = wb
        self._plan: tuple[str, int, float, ActorPlan] | None = None
        self._plan_lock = threading.Lock()  # pages ask from their own threads: one listing

    def plan(self, name: str, fresh: bool = False) -> ActorPlan:
        """The actor's plan; the Library card and the Training Data page both ask for it when
        an actor is chosen, and share one listing. ``fresh`` (Refresh buttons) always lists.
        Blocking (S3): pages call it off the UI thread."""
        with self._plan_lock:
            c = self._plan
            if (not fresh and c is not None and c[:2] == (name, self.revision)
                    and time.monotonic() - c[2] < PLAN_MAX_AGE_S):
                return c[3]
            revision = self.revision
            plan = self.wb.engine.plan([name])[name]
            self._plan = (name, revision, time.monotonic(), plan)
            return plan

    def changed(self) -> None:
        """Something on disk or in S3 changed: pages refresh what they show."""
        self.revision += 1
