"""`actorbench discover`: add the actor folders found under the prefix to ``actors.json``.

Rules (the same whether ``actors.json`` exists or not):

* a folder is an actor when ``check_actor_name`` accepts its name; others are reported and
  skipped (never written to ``actors.json``, where they would name a local folder);
* entries already in ``actors.json`` are left as they are, unknown fields included; new
  entries are appended;
* a new actor's id is the number its name starts with (``0042_latino_30_male`` -> 42) when no
  actor has that id, else one more than the highest numeric id;
* ``training_data`` is filled the way a push records it (``s3_urls`` of the training images in
  S3, in index order, and ``count``), from the listing this command makes anyway: the Library
  shows the actor as having data at once. ``synced`` is false: nothing was compared with local
  files yet, and the next push records the real state. An actor folder without training images
  gets no ``training_data`` (the Library shows "no data", as for a new actor);
* the file is written once, atomically, under the registry's lock, re-read under that lock (a
  push recording its URLs meanwhile is kept); nothing new means nothing written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..actors.model import Facets, check_actor_name
from ..actors.registry import _id_key, parse_registry, read_json
from ..errors import UnsafePathError
from ..fsutil import atomic_write_json, clean_stale_temps, file_lock
from ..storage.base import ObjectStore
from ..storage.layout import Layout
from ..storage.urls import format_s3_url
from .files import printable

#: the number a name starts with: ``0042_latino_30_male``, ``17-extra``, ``7``
_LEADING_NUMBER = re.compile(r"(\d{1,9})(?:[_-]|\Z)", re.ASCII)


@dataclass(frozen=True)
class Found:
    """One actor folder in S3 and its training images' indices."""

    name: str
    indices: tuple[int, ...]


@dataclass
class Discovery:
    """What ``discover`` found and added (or would add, in a dry run)."""

    path: Path
    folders: int = 0  # actor folders with safe names
    known: int = 0  # actors in actors.json before
    added: list[dict[str, Any]] = field(default_factory=list)  # the new entries
    unsafe: list[dict[str, str]] = field(default_factory=list)  # {"name", "reason"}
    dry_run: bool = False
    written: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "folders": self.folders, "known": self.known,
                "added": [_describe(e) for e in self.added], "unsafe": self.unsafe,
                "dry_run": self.dry_run, "written": self.written}

    def summary(self) -> str:
        verb = "would add" if self.dry_run else "added"
        lines = [f"{self.path}: {self.folders} actor folders in S3, {self.known} actors known; "
                 f"{verb} {len(self.added)}."]
        for e in map(_describe, self.added):
            facets = ", ".join(str(v) for v in (e["ethnicity"], e["age"], e["gender"]) if v)
            n = e["images"]
            lines.append(f"  + {e['id']} {e['name']}: {n} image{'' if n == 1 else 's'}"
                         + (f" ({facets})" if facets else " (no facets in the name)"))
        lines += [f"  ✗ skipped {u['name']}: {u['reason']}" for u in self.unsafe]
        if self.dry_run:
            lines.append("Dry run: nothing written.")
        return "\n".join(lines)


def _describe(entry: dict[str, Any]) -> dict[str, Any]:
    f = Facets.from_name(entry["name"])
    return {"id": entry["id"], "name": entry["name"],
            "images": len((entry.get("training_data") or {}).get("s3_urls") or []),
            "ethnicity": f.ethnicity, "age": f.age, "gender": f.gender}


def find_actor_folders(store: ObjectStore, layout: Layout
                       ) -> tuple[list[Found], list[dict[str, str]]]:
    """Actor folders under the prefix (one listing), and the refused names with reasons."""
    root = f"{layout.prefix}/"
    images: dict[str, set[int]] = {}
    for info in store.list(root):
        folder, sep, _ = info.key[len(root):].partition("/")
        if not sep or not folder:  # an object beside the folders (a doctor's scratch key)
            continue
        seen = images.setdefault(folder, set())
        if parsed := layout.parse_image_key(info.key):
            seen.add(parsed[1])
    found, unsafe = [], []
    for name in sorted(images):
        try:
            check_actor_name(name)
        except UnsafePathError as exc:
            unsafe.append({"name": printable(name), "reason": str(exc)})
            continue
        found.append(Found(name, tuple(sorted(images[name]))))
    return found, unsafe


def new_entries(existing: list[dict[str, Any]], found: list[Found], layout: Layout,
                bucket: str, region: str) -> list[dict[str, Any]]:
    """Entries for the folders ``existing`` does not name, with ids chosen by the rules."""
    names = {e.get("name") for e in existing}
    fresh = [f for f in found if f.name not in names]
    taken = {_id_key(e["id"]) for e in existing}
    ids: dict[str, int] = {}
    for f in fresh:  # first the names' own numbers, where free
        m = _LEADING_NUMBER.match(f.name)
        if m and int(m.group(1)) > 0 and _id_key(int(m.group(1))) not in taken:
            ids[f.name] = int(m.group(1))
            taken.add(_id_key(ids[f.name]))
    highest = max((int(k) for k in taken if k.isdigit()), default=0)
    out = []
    for f in fresh:
        if f.name not in ids:
            highest += 1
            ids[f.name] = highest
        entry: dict[str, Any] = {"id": ids[f.name], "name": f.name}
        if f.indices:  # as SyncEngine._record_push records them
            urls = [format_s3_url(bucket, region, layout.image_key(f.name, i))
                    for i in f.indices]
            entry["training_data"] = {
                "s3_urls": urls, "count": len(urls), "synced": False,
                "local_path": str(layout.training_dir(f.name)),
                "base_image_path": str(layout.base_image_path(f.name))}
        out.append(entry)
    return sorted(out, key=lambda e: (e["id"], e["name"]))


def _read_entries(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    data = read_json(path)
    parse_registry(data, path)  # refuse to add to a broken file (RegistryError names it)
    return list(data)


def discover(store: ObjectStore, layout: Layout, registry_path: Path, region: str,
             dry_run: bool = False) -> Discovery:
    """Add the actor folders under the prefix to ``actors.json`` (see the module's rules).

    Usage::

        result = discover(wb.store, wb.layout, wb.settings.registry_path, settings.region)
        print(result.summary())
    """
    path = Path(registry_path)
    found, unsafe = find_actor_folders(store, layout)
    result = Discovery(path, folders=len(found), unsafe=unsafe, dry_run=dry_run)
    if dry_run:
        existing = _read_entries(path)
        result.known = len(existing)
        result.added = new_entries(existing, found, layout, store.bucket, region)
        return result
    with file_lock(path.with_name(f".{path.name}.lock"), what=str(path)):  # Registry's lock
        existing = _read_entries(path)
        result.known = len(existing)
        result.added = new_entries(existing, found, layout, store.bucket, region)
        if result.added:
            data = existing + result.added
            parse_registry(data, path)  # what is written loads
            clean_stale_temps(path.parent, of=path.name)
            atomic_write_json(path, data)
            result.written = True
    return result
