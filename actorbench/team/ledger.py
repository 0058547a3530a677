"""The training ledger in the bucket: ``VersionStore``'s interface over a shared document.

``ledgers/{actor_id}.json`` holds ``{"actor_id", "versions": [...], "good": mark}``; the local
``data/actor_training_versions/{actor_id}.json`` is its cache, rewritten on every read. Saves
merge (``merge.merge_ledger``); a launch is recorded with a compare-and-swap that re-checks,
on every attempt, that no job of the actor is queued or running.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..actors.model import Actor
from ..actors.registry import Registry
from ..errors import ActorbenchError, AlreadyTraining, RegistryError
from ..fsutil import atomic_write_json
from ..storage.layout import Layout
from ..training.status import ACTIVE, JobStatus
from ..training.versions import TrainingVersion, VersionStore, mark_record, markable
from .documents import LEDGERS, SharedDocuments
from .marks import MarkRules
from .merge import merge_ledger, next_revision

#: told of every mark written: ``(actor name, the winning mark)`` (the shared registry)
OnMark = Callable[[Registry, str, dict[str, Any]], None]


class SharedLedger(VersionStore):
    """Usage::

        ledger = SharedLedger(layout, docs, who.as_dict())
        versions = ledger.load(actor.id)          # from the bucket; the local file follows
    """

    def __init__(self, layout: Layout, docs: SharedDocuments, who: dict[str, str],
                 on_mark: OnMark | None = None) -> None:
        super().__init__(layout, who)
        self.docs, self.on_mark = docs, on_mark
        self.rules = MarkRules(docs.store.bucket, layout.prefix)

    def _believed(self, mark: dict[str, Any], versions: list[dict[str, Any]]) -> bool:
        """A mark names a completed version of this ledger with its own LoRA, dated no later
        than now (the actor's name is checked where it is known: ``mark_good``, the registry)."""
        return self.rules.why_not(mark, "*", versions, any_actor=True) is None

    def doc_name(self, actor_id: str | int) -> str:
        return f"{LEDGERS}{self.path(actor_id).name}"  # path() refuses an unsafe id

    def _cache(self, actor_id: str | int, doc: dict[str, Any]) -> None:
        atomic_write_json(self.path(actor_id), doc)

    def _checked(self, actor_id: str | int, doc: dict[str, Any] | None
                 ) -> dict[str, Any] | None:
        """The document as read, refused (naming its key) unless its versions have ids:
        anyone who can write the bucket can edit it, and a bad one must not reach the cache."""
        if doc is None:
            return None
        where = f"s3://{self.docs.store.bucket}/{self.docs.key(self.doc_name(actor_id))}"
        versions = doc.get("versions", [])
        if not isinstance(versions, list):
            raise RegistryError(where, 'must hold {"versions": [...]}')
        for i, raw in enumerate(versions):
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                raise RegistryError(where, f"version #{i} must be an object with a string id")
        good = doc.get("good")
        if not isinstance(good, dict) or not self._believed(good, versions):
            good = None  # an edited mark is not believed: no version is the good one
        good_id = good.get("version_id") if good else None
        return {**doc, "good": good, "versions": [{**v, "isGood": v["id"] == good_id}
                                                  for v in versions]}

    def load(self, actor_id: str | int) -> list[TrainingVersion]:
        """The shared ledger (refreshing the local copy); before anyone shared one, the local
        file, whose versions the next save then shares."""
        doc = self._checked(actor_id, self.docs.read(self.doc_name(actor_id))[0])
        if doc is not None:
            try:
                local = super().load(actor_id)
            except ActorbenchError:  # an unreadable cache is replaced by the shared copy
                local = []
            shared = {v.get("id") for v in doc.get("versions", [])}
            if any(v.id not in shared for v in local):
                # versions only this workstation knows (launched before team mode, or whose
                # shared write failed): merged in and shared, never dropped by the cache
                self.save(actor_id, local)
                return super().load(actor_id)
            self._cache(actor_id, doc)
        return super().load(actor_id)  # the same checks as a local file

    def save(self, actor_id: str | int, versions: list[TrainingVersion]) -> None:
        mine = {"actor_id": str(actor_id), "versions": [v.to_dict() for v in versions]}
        doc = self.docs.update(self.doc_name(actor_id),
                               lambda cur: merge_ledger(self._checked(actor_id, cur), mine,
                                                        self._believed))
        self._cache(actor_id, doc)

    def record_launch(self, actor: Actor, versions: list[TrainingVersion],
                      version: TrainingVersion, another: bool = False) -> None:
        """Write the new version only over the ledger it checked: if another workstation
        launched meanwhile, the write fails, the ledger is read again and checked again."""
        version.user, version.machine = self.who.get("user"), self.who.get("machine")

        def change(current: dict[str, Any] | None) -> dict[str, Any]:
            current = self._checked(actor.id, current)
            stored = [TrainingVersion.from_dict(v) for v in (current or {}).get("versions", [])]
            active = [v for v in stored if JobStatus.parse(v.status) in ACTIVE
                      and v.id != version.id]
            if active and not another:
                a = active[0]
                raise AlreadyTraining(actor.name, a.name, str(a.status), a.user, a.machine,
                                      a.created_at)
            names = {v.name for v in stored if v.id != version.id}
            n = len(stored) + 1
            while version.name in names:  # two confirmed launches at once: both get a name
                version.name, n = f"v{n}", n + 1
            return merge_ledger(current, {"actor_id": str(actor.id),
                                          "versions": [version.to_dict()]}, self._believed)

        doc = self.docs.update(self.doc_name(actor.id), change)
        self._cache(actor.id, doc)
        versions.append(version)

    def mark_good(self, registry: Registry, actor_ref: str, version_id: str,
                  marked_at: str) -> TrainingVersion:
        """One choice per actor, ordered by the bucket: the mark carries the next revision of
        the ledger's (given inside the compare-and-swap, so it wins over every mark stored),
        here and in the shared registry; the record says who marked it. Only a completed
        version whose LoRA lies under ``loras/<actor>/<version id>/`` can be marked."""
        actor = registry.get(actor_ref)
        chosen: list[TrainingVersion] = []

        def change(current: dict[str, Any] | None) -> dict[str, Any]:
            raw = (current or {}).get("good")  # its revision counts even if not believed
            current = self._checked(actor.id, current)
            stored = [TrainingVersion.from_dict(v) for v in (current or {}).get("versions", [])]
            chosen[:] = [markable(actor.name, stored, version_id)]
            if not self.rules.own_lora(chosen[0].lora_url, actor.name, chosen[0].id):
                raise ActorbenchError(
                    f"Version {chosen[0].name} of {actor.name} cannot be marked good: its LoRA "
                    f"is not under s3://{self.rules.bucket}/{self.rules.loras}/{actor.name}/"
                    f"{chosen[0].id}/, where this library's trainings put it.")
            mark = {**mark_record(chosen[0], marked_at, self.who), "revision": next_revision(raw)}
            return merge_ledger(current, {"good": mark},
                                lambda m, vs: self.rules.why_not(m, actor.name, vs) is None)

        with self.lock(actor.id):
            doc = self.docs.update(self.doc_name(actor.id), change)
            self._cache(actor.id, doc)
            if self.on_mark is not None:  # the winner, which repairs a mark a crash left out
                self.on_mark(registry, actor.name, doc["good"])
        return chosen[0]
