"""State shared by the pages: the workbench and which actor is selected."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import traitlets as t

from actorbench.fsutil import atomic_write_json
from actorbench.sync.plan import ActorPlan
from actorbench.workbench import Workbench

if TYPE_CHECKING:
    from actorbench.actors.model import Actor
    from actorbench.ui.widgets.actor_card import Tally

#: pages reacting to the same actor change share one plan (one S3 listing), if this fresh
PLAN_MAX_AGE_S = 2.0


class AppState(t.HasTraits):
    """The selected actor; pages observe ``actor`` and ``revision`` (bumped after changes)."""

    actor = t.Unicode("")
    revision = t.Int(0)
    open_page = t.Unicode("")  # a page asks the app to switch tabs
    #: the visitor's screen, device pixels per CSS pixel: pictures are sized for it
    #: (``common.screen_px``); 0 until the page says (the page script, at the visit)
    pixel_ratio = t.Float(0.0)

    def __init__(self, wb: Workbench) -> None:
        super().__init__()
        self.wb = wb
        self._plan: tuple[str, int, float, ActorPlan] | None = None
        self._plan_lock = threading.Lock()  # pages ask from their own threads: one listing
        #: each actor's last listing since the last change: the gallery's cards count from it
        self.listed: dict[str, ActorPlan] = {}
        self._save_lock = threading.Lock()

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
            if revision == self.revision:
                self.listed[name] = plan
            return plan

    def tally(self, actor: Actor) -> Tally:
        """The actor's images as its card counts them: from its last listing, else from
        actors.json and the local folder (no S3 call: safe on the UI thread)."""
        from actorbench.ui.widgets.actor_card import tally

        plan = self.listed.get(actor.name)
        here = 0 if plan is not None else len(self.wb.layout.local_images(actor.name))
        return tally(actor, here, plan)

    @t.observe("revision")
    def _on_revision(self, change: object) -> None:
        self.listed = {}  # a sync or a reload changed what the listings said

    # -- the last actor chosen, remembered across visits ----------------------------------------
    @property
    def ui_state_path(self) -> Path:
        return self.wb.layout.data_dir / ".cache" / "ui-state.json"

    def remembered_actor(self) -> str:
        """The actor chosen last time (on any visit), if actors.json still has it; else ""."""
        try:
            name = json.loads(self.ui_state_path.read_text(encoding="utf-8")).get("actor")
            return self.wb.registry.get(name).name if isinstance(name, str) and name else ""
        except Exception:  # a missing, old or hand-broken file: start afresh
            return ""

    def remember_choices(self) -> None:
        """From now on, write the chosen actor to ``ui_state_path`` (from a thread: the file
        is fsynced, and the click that chose the actor does not wait for the disk)."""
        self.observe(self._on_actor_save, "actor")

    def _on_actor_save(self, change: object) -> None:
        def save() -> None:
            with self._save_lock:  # writers in turn, each writes the newest choice
                try:
                    atomic_write_json(self.ui_state_path, {"actor": self.actor})
                except OSError:
                    pass  # a read-only data folder: nothing remembered, nothing broken

        threading.Thread(target=save, daemon=True, name="actorbench-ui-state").start()

    def changed(self) -> None:
        """Something on disk or in S3 changed: pages refresh what they show."""
        self.revision += 1
