"""``Team``: team mode's shared records, built by the workbench when ``ACTORBENCH_TEAM=1``.

Layout under ``Settings.team_prefix`` (default ``system_actors/actorbench_state``)::

    ledgers/{actor_id}.json   every training version of the actor, and its "good" mark
    registry.json             actors added by discover, and every actor's good model
    params/{actor_name}.json  the parameters last used for the actor
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..clock import stamp
from ..fsutil import atomic_write_json
from ..settings import Settings, Who
from ..storage.base import ObjectStore
from ..storage.layout import Layout
from .documents import PARAMS, SharedDocuments
from .ledger import SharedLedger
from .merge import in_future, merge_params, next_revision
from .probe import check_conditional_writes
from .registry import SharedRegistry


def server_name(settings: Settings) -> str:
    return (f"the S3 server at {settings.endpoint_url}" if settings.endpoint_url
            else f"AWS S3 ({settings.region})")


class Team:
    """Usage::

        team = Team.open(settings, store, layout)     # refuses a server without conditions
        team.registry.refresh(settings.registry_path)
        before = team.fingerprint(); ...; team.fingerprint() != before   # something changed
    """

    def __init__(self, store: ObjectStore, layout: Layout, prefix: str, who: Who) -> None:
        self.store, self.layout, self.prefix, self.who = store, layout, prefix, who
        self.docs = SharedDocuments(store, prefix)
        self.registry = SharedRegistry(self.docs, layout)
        self.ledger = SharedLedger(layout, self.docs, who.as_dict(),
                                   on_mark=self.registry.record_mark)

    @classmethod
    def open(cls, settings: Settings, store: ObjectStore, layout: Layout,
             probe: bool = True) -> Team:
        if probe:
            check_conditional_writes(store, settings.team_prefix, server_name(settings))
        return cls(store, layout, settings.team_prefix, settings.who)

    # -- saved parameters ----------------------------------------------------------------------
    def params_doc(self, actor_name: str) -> str:
        return f"{PARAMS}{self.layout.actor_dir(actor_name).name}.json"  # a safe name only

    def refresh_params(self, actor_name: str, path: Path) -> None:
        """Write the shared parameters of the actor to ``path`` (the local cache)."""
        doc, _ = self.docs.read(self.params_doc(actor_name))
        if (doc is not None and isinstance(doc.get("params"), dict)
                and not in_future(doc.get("saved_at"))):  # a save dated ahead: not believed
            atomic_write_json(path, doc["params"])

    def save_params(self, actor_name: str, params: dict[str, Any]) -> None:
        """Share the parameters: the save carries the next revision, so it wins over any."""
        mine = {"params": params, "saved_at": stamp(), **self.who.as_dict()}
        self.docs.update(self.params_doc(actor_name), lambda cur: merge_params(
            cur, {**mine, "revision": next_revision(cur)}))

    # -- following the team --------------------------------------------------------------------
    def fingerprint(self) -> dict[str, str]:
        """Every shared document's ETag from one listing: compare two to know whether anything
        changed (a page polls this, then reloads only what did)."""
        return self.docs.etags()


def changed_documents(before: dict[str, str], after: dict[str, str]) -> set[str]:
    """The documents written, added or removed between two fingerprints."""
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
