"""``actors.json``: load with precise errors, search and filter, update atomically under a lock."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..errors import RegistryError, UnknownActorError
from ..fsutil import atomic_write_json, clean_stale_temps, file_lock
from .model import Actor, check_actor_name, trigger_problem

KNOWN = {"id", "name", "training_data", "validated_lora_model"}


class LibraryStatus(StrEnum):
    """An actor's state in the library, as the Library's filter and card and the Batch sync
    page name it; the value is the code stored and compared, ``label`` the words shown."""

    SYNCED = "synced"
    NOT_SYNCED = "not_synced"
    NO_DATA = "no_data"

    @property
    def label(self) -> str:
        return _LIBRARY_WORDS[self]


_LIBRARY_WORDS = {LibraryStatus.SYNCED: "Synced", LibraryStatus.NOT_SYNCED: "Not synced yet",
                  LibraryStatus.NO_DATA: "No images yet"}
LIBRARY_STATUSES = tuple(LibraryStatus)


#: (inode, mtime in ns, size): a rename over the file (atomic_write_json) changes the inode
#: even when the clock has not moved on and the size is the same
FileSignature = tuple[int, int, int]


def file_signature(path: Path | None) -> FileSignature | None:
    """What tells one version of a file from the next, without reading it; None if absent."""
    if path is None:
        return None
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def read_json(path: Path) -> Any:
    """Read a JSON file; a malformed one raises ``RegistryError`` naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegistryError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise RegistryError(path, f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:  # a folder, no permission
        raise RegistryError(path, f"cannot be read ({exc.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegistryError(path, f"malformed JSON at line {exc.lineno}, column {exc.colno}: "
                                  f"{exc.msg}") from None
    except RecursionError:  # [[[[... deeper than the parser's stack: no real file is
        raise RegistryError(path, "malformed JSON: lists or objects nested too deeply "
                                  "to read") from None
    except ValueError as exc:  # e.g. a number of more than 4300 digits
        raise RegistryError(path, f"malformed JSON: {exc}") from None


def actor_from_dict(raw: Any, path: Path, position: int) -> Actor:
    label = f"#{position}"
    if not isinstance(raw, dict):
        raise RegistryError(path, f"entry {label} must be an object, not {type(raw).__name__}")
    name = raw.get("name")
    label = name if isinstance(name, str) else label
    if "id" not in raw:
        raise RegistryError(path, "is required", actor=label, field="id")
    if not isinstance(raw["id"], (int, str)) or isinstance(raw["id"], bool):
        raise RegistryError(path, "must be a number or a string", actor=label, field="id")
    if not isinstance(name, str):
        raise RegistryError(path, "is required and must be a string", actor=label, field="name")
    try:
        check_actor_name(name)
    except Exception as exc:
        raise RegistryError(path, str(exc), actor=label, field="name") from None
    td = raw.get("training_data")
    if td is not None:
        if not isinstance(td, dict):
            raise RegistryError(path, "must be an object", actor=name, field="training_data")
        urls = td.get("s3_urls")
        if urls is not None and (not isinstance(urls, list)
                                 or not all(isinstance(u, str) for u in urls)):
            raise RegistryError(path, "must be a list of strings", actor=name,
                                field="training_data.s3_urls")
        count = td.get("count")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool)
                                  or count < 0):
            raise RegistryError(path, "must be a non-negative integer", actor=name,
                                field="training_data.count")
        synced = td.get("synced")
        if synced is not None and not isinstance(synced, bool):
            raise RegistryError(path, "must be true or false", actor=name,
                                field="training_data.synced")
    if "trigger_word" in raw and (why := trigger_problem(raw["trigger_word"])):
        raise RegistryError(path, why, actor=name, field="trigger_word")
    vlm = raw.get("validated_lora_model")
    if vlm is not None and not isinstance(vlm, dict):
        raise RegistryError(path, "must be an object", actor=name, field="validated_lora_model")
    return Actor(id=raw["id"], name=name, training_data=td, validated_lora_model=vlm,
                 extra={k: v for k, v in raw.items() if k not in KNOWN})


def parse_registry(data: Any, path: Path) -> list[Actor]:
    if not isinstance(data, list):
        raise RegistryError(path, f"must hold a JSON list of actors, not {type(data).__name__}")
    actors = [actor_from_dict(raw, path, i) for i, raw in enumerate(data)]
    by_name: dict[str, int] = {}
    by_id: dict[str, int] = {}
    for i, a in enumerate(actors):
        if a.name in by_name:
            raise RegistryError(path, f"actors #{by_name[a.name]} and #{i} have the same name "
                                      f"{a.name!r}; names must be unique")
        by_name[a.name] = i
        key = _id_key(a.id)
        if key in by_id:  # ``get("2")`` could not tell them apart
            first = actors[by_id[key]]
            raise RegistryError(path, f"actors {first.name!r} (id {first.id!r}) and {a.name!r} "
                                      f"(id {a.id!r}) have the same id; ids must be unique")
        by_id[key] = i
    return actors


def _id_key(actor_id: int | str) -> str:
    """Ids as ``Registry.get`` compares them: ``2``, ``"2"`` and ``"0002"`` are one id."""
    text = str(actor_id).strip()
    return (text.lstrip("0") or "0") if text.isdigit() else text


def library_status(actor: Actor) -> LibraryStatus:
    if not actor.training_data or not (actor.image_count or actor.s3_urls):
        return LibraryStatus.NO_DATA
    return LibraryStatus.SYNCED if actor.synced else LibraryStatus.NOT_SYNCED


@dataclass
class ActorQuery:
    """Search text and facet filters, as the Library page and the CLI use them."""

    text: str = ""
    ethnicity: str | None = None
    gender: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    status: str | None = None
    validated: bool | None = None

    def matches(self, actor: Actor) -> bool:
        f = actor.facets
        text = self.text.strip().lower()
        if text and text not in actor.name.lower() and text != str(actor.id).lower() \
                and text.lstrip("0") != str(actor.id).lstrip("0"):
            return False
        if self.ethnicity and f.ethnicity != self.ethnicity:
            return False
        if self.gender and f.gender != self.gender:
            return False
        if self.age_min is not None and (f.age is None or f.age < self.age_min):
            return False
        if self.age_max is not None and (f.age is None or f.age > self.age_max):
            return False
        if self.status and library_status(actor) != self.status:
            return False
        return not (self.validated is not None and actor.has_validated_model != self.validated)


class Registry:
    """The actor library as read from one ``actors.json``.

    Usage::

        reg = Registry.load(settings.registry_path)
        actor = reg.get("0002_european_35_female")   # or reg.get("2")
        reg.update(actor.name, lambda d: d.update(flag=True))
    """

    def __init__(self, path: Path, actors: list[Actor],
                 signature: FileSignature | None = None) -> None:
        self.path = Path(path)
        self.actors = actors
        self._by_name = {a.name: a for a in actors}
        #: the file as it was just before it was read: a watcher that compares the file with
        #: this (not with what it finds when it starts) misses no change made in between
        self.signature = signature

    @classmethod
    def load(cls, path: Path) -> Registry:
        path = Path(path)
        signature = file_signature(path)
        return cls(path, parse_registry(read_json(path), path), signature)

    @classmethod
    def load_or_empty(cls, path: Path) -> Registry:
        return cls.load(path) if Path(path).exists() else cls(Path(path), [])

    def __len__(self) -> int:
        return len(self.actors)

    def __iter__(self):
        return iter(self.actors)

    def get(self, ref: str | int) -> Actor:
        ref = str(ref).strip()
        if ref in self._by_name:
            return self._by_name[ref]
        for a in self.actors:
            if str(a.id) == ref or (ref.isdigit() and str(a.id).lstrip("0") == ref.lstrip("0")
                                    and ref.lstrip("0")):
                return a
        raise UnknownActorError(ref)

    def resolve(self, refs: Iterable[str], all_: bool = False) -> list[Actor]:
        if all_:
            return list(self.actors)
        return [self.get(r) for r in refs]

    def search(self, query: ActorQuery) -> list[Actor]:
        return [a for a in self.actors if query.matches(a)]

    def facet_values(self) -> dict[str, list[str]]:
        eth = sorted({a.facets.ethnicity for a in self.actors if a.facets.ethnicity})
        gen = sorted({a.facets.gender for a in self.actors if a.facets.gender})
        return {"ethnicity": eth, "gender": gen, "status": list(LIBRARY_STATUSES)}

    def update(self, ref: str, change: Callable[[dict[str, Any]], None]) -> Actor:
        """Read-modify-write one actor under a lock, so concurrent writers lose nothing."""
        name = self.get(ref).name
        with file_lock(self.path.with_name(f".{self.path.name}.lock"), what=str(self.path)):
            data = read_json(self.path)
            parse_registry(data, self.path)
            for raw in data:
                if raw.get("name") == name:
                    change(raw)
                    updated = actor_from_dict(raw, self.path, 0)
                    break
            else:
                raise UnknownActorError(name)
            clean_stale_temps(self.path.parent, of=self.path.name)  # a killed writer's
            atomic_write_json(self.path, data)
        self.actors = [updated if a.name == name else a for a in self.actors]
        self._by_name[name] = updated
        return updated

    def set_trigger(self, ref: str, word: str | None) -> Actor:
        """Store the actor's trigger word (None: back to ``default_trigger``)."""
        if word is not None and (why := trigger_problem(word)):
            raise RegistryError(self.path, why, actor=self.get(ref).name, field="trigger_word")

        def change(raw: dict[str, Any]) -> None:
            if word is None:
                raw.pop("trigger_word", None)
            else:
                raw["trigger_word"] = word

        return self.update(ref, change)

    def save(self) -> None:
        """Write the whole registry (used by the demo and by tests)."""
        with file_lock(self.path.with_name(f".{self.path.name}.lock"), what=str(self.path)):
            atomic_write_json(self.path, [a.to_dict() for a in self.actors])
