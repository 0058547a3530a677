"""What actorbench adds to ``actors.json``, shared: new actors and each actor's good model.

``registry.json`` holds ``{"actors": [entries added by discover], "validated": {name: mark}}``.
``refresh`` brings it into the local ``actors.json`` (the cache) before the registry is read;
``record_mark`` and ``publish`` merge into it (``merge.merge_registry``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..actors.registry import Registry, _id_key, actor_from_dict, parse_registry, read_json
from ..errors import ActorbenchError
from ..fsutil import atomic_write_json, clean_stale_temps, file_lock
from ..storage.layout import Layout
from ..training.runpod import check_url
from .documents import REGISTRY_DOC, SharedDocuments
from .merge import merge_registry

DOC = REGISTRY_DOC
#: where a workstation keeps an actor's files: never shared, filled in by each one
LOCAL_FIELDS = ("local_path", "base_image_path", "synced")


def _valid_mark(mark: object) -> bool:
    """A mark from the bucket (anyone with write access may have edited it)."""
    if not isinstance(mark, dict) or not isinstance(mark.get("lora_url"), str):
        return False
    try:
        check_url(mark["lora_url"], "A shared mark's lora_url")
    except ActorbenchError:
        return False
    return True


class SharedRegistry:
    def __init__(self, docs: SharedDocuments, layout: Layout) -> None:
        self.docs, self.layout = docs, layout

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
        doc = self.docs.update(DOC, lambda cur: merge_registry(cur, {"validated": {name: mark}}))
        winner = (doc.get("validated") or {}).get(name)
        if _valid_mark(winner) and registry.get(name).validated_lora_model != winner:
            registry.update(name, lambda raw: raw.update(validated_lora_model=winner))

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
                if _valid_mark(mark) and raw.get("validated_lora_model") != mark:
                    raw["validated_lora_model"] = mark
                    changed = True
            if changed:
                parse_registry(data, path)
                clean_stale_temps(path.parent, of=path.name)
                atomic_write_json(path, data)
        return changed
