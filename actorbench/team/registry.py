"""What actorbench adds to ``actors.json``, shared: new actors and each actor's good model.

``registry.json`` holds ``{"actors": [entries added by discover], "validated": {name: mark}}``.
``refresh`` brings it into the local ``actors.json`` (the cache) before the registry is read;
``record_mark``, ``record_trigger`` and ``publish`` merge into it (``merge.merge_registry``);
``"triggers": {name: {"word", "at", "user", "revision"}}`` shares each actor's trigger word:
the setting with the higher revision wins (one more than the stored one, given inside the
compare-and-swap), and one dated in the future is not believed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..actors.model import trigger_problem
from ..actors.registry import Registry, _id_key, actor_from_dict, parse_registry, read_json
from ..errors import ActorbenchError
from ..fsutil import atomic_write_json, clean_stale_temps, file_lock
from ..storage.layout import Layout
from ..training.runpod import check_url
from .documents import REGISTRY_DOC, SharedDocuments
from .marks import MarkRules
from .merge import in_future, merge_registry, next_revision

DOC = REGISTRY_DOC
#: where a workstation keeps an actor's files: never shared, filled in by each one
LOCAL_FIELDS = ("local_path", "base_image_path", "synced")


def _valid_trigger(word: object) -> str | None:
    """A shared trigger word, checked as ``actors.json`` checks it (None: the default)."""
    return word if isinstance(word, str) and not trigger_problem(word) else None


class SharedRegistry:
    def __init__(self, docs: SharedDocuments, layout: Layout) -> None:
        self.docs, self.layout = docs, layout
        self.rules = MarkRules(docs.store.bucket, layout.prefix)

    def _valid_mark(self, name: str, mark: object) -> bool:
        """A mark from the bucket (anyone with write access may have edited it): a URL, to
        this library's LoRA of that actor, not dated in the future (``marks.MarkRules``)."""
        if not isinstance(mark, dict) or not isinstance(mark.get("lora_url"), str):
            return False
        try:
            check_url(mark["lora_url"], "A shared mark's lora_url")
        except ActorbenchError:
            return False
        return self.rules.why_not(mark, name) is None

    def _in_ledger(self, actor_id: str | int, name: str, mark: Any) -> bool:
        """The mark names a completed version of the actor's shared ledger, with its LoRA (read
        only when a mark would change what this workstation believes)."""
        try:
            doc, _ = self.docs.read(f"ledgers/{self.layout.versions_path(actor_id).name}")
        except ActorbenchError:
            return False
        versions = doc.get("versions") if doc else None
        return isinstance(mark, dict) and isinstance(versions, list) and self.rules.why_not(
            mark, name, [v for v in versions if isinstance(v, dict)]) is None

    def publish(self, entries: list[dict[str, Any]]) -> None:
        """Share actors added here (by ``discover``) with the other workstations."""
        shared = []
        for e in entries:
            entry = {k: v for k, v in e.items() if k != "validated_lora_model"}
            if isinstance(entry.get("training_data"), dict):
                entry["training_data"] = {k: v for k, v in entry["training_data"].items()
                                          if k not in LOCAL_FIELDS}
            shared.append(entry)
        if shared:
            self.docs.update(DOC, lambda cur: merge_registry(cur, {"actors": shared}))

    def record_mark(self, registry: Registry, name: str, mark: dict[str, Any]) -> None:
        """Merge a mark into the shared registry, and the winner into the local one."""
        doc = self.docs.update(DOC, lambda cur: merge_registry(cur, {"validated": {name: mark}},
                                                               self._valid_mark))
        winner = (doc.get("validated") or {}).get(name)
        actor = registry.get(name)
        believed = self._valid_mark(name, winner) and (
            winner == mark or self._in_ledger(actor.id, name, winner))
        if believed and actor.validated_lora_model != winner:
            registry.update(name, lambda raw: raw.update(validated_lora_model=winner))

    def record_trigger(self, registry: Registry, name: str, word: str | None, at: str,
                       user: str) -> None:
        """Share an actor's trigger word (None: back to the default), the later setting
        winning (a revision one above the stored one, given inside the compare-and-swap),
        and keep the winner in the local ``actors.json``."""
        def merge(cur: dict[str, Any] | None) -> dict[str, Any]:
            held = cur.get("triggers") if isinstance(cur, dict) else None
            stored = held.get(name) if isinstance(held, dict) else None
            rec = {"word": word, "at": at, "user": user, "revision": next_revision(stored)}
            return merge_registry(cur, {"triggers": {name: rec}})

        doc = self.docs.update(DOC, merge)
        winner = (doc.get("triggers") or {}).get(name)
        if isinstance(winner, dict) and not in_future(winner.get("at")):
            registry.set_trigger(name, _valid_trigger(winner.get("word")))

    def refresh(self, path: Path) -> bool:
        """Bring shared actors and marks into ``actors.json``; True when it changed. A shared
        actor whose id a local actor already has is left out (its name says which)."""
        doc, _ = self.docs.read(DOC)
        if not doc:
            return False
        path = Path(path)
        with file_lock(path.with_name(f".{path.name}.lock"), what=str(path)):
            data: list[dict[str, Any]] = read_json(path) if path.exists() else []
            parse_registry(data, path)
            names = {raw["name"] for raw in data}
            ids = {_id_key(raw["id"]) for raw in data}
            changed = False
            for entry in doc.get("actors") or []:
                try:
                    actor_from_dict(entry, path, len(data))
                except ActorbenchError:
                    continue  # an entry no actors.json may hold
                if entry["name"] in names or _id_key(entry["id"]) in ids:
                    continue
                entry = dict(entry)
                if isinstance(entry.get("training_data"), dict):
                    entry["training_data"] = {
                        **entry["training_data"], "synced": False,
                        "local_path": str(self.layout.training_dir(entry["name"])),
                        "base_image_path": str(self.layout.base_image_path(entry["name"]))}
                data.append(entry)
                names.add(entry["name"])
                ids.add(_id_key(entry["id"]))
                changed = True
            marks = doc.get("validated")
            marks = marks if isinstance(marks, dict) else {}
            for raw in data:
                mark = marks.get(raw["name"])
                if raw.get("validated_lora_model") == mark:
                    if mark is not None and not self._valid_mark(raw["name"], mark):
                        del raw["validated_lora_model"]  # believed before these rules
                        changed = True
                elif self._valid_mark(raw["name"], mark) and self._in_ledger(
                        raw["id"], raw["name"], mark):
                    raw["validated_lora_model"] = mark
                    changed = True
            triggers = doc.get("triggers")
            triggers = triggers if isinstance(triggers, dict) else {}
            for raw in data:
                rec = triggers.get(raw["name"])
                if not isinstance(rec, dict) or in_future(rec.get("at")):
                    continue  # none, or dated ahead of every clock: not believed
                word = _valid_trigger(rec.get("word"))
                if raw.get("trigger_word") != word:
                    if word is None:
                        raw.pop("trigger_word", None)
                    else:
                        raw["trigger_word"] = word
                    changed = True
            if changed:
                parse_registry(data, path)
                clean_stale_temps(path.parent, of=path.name)
                atomic_write_json(path, data)
        return changed
