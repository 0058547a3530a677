"""The Actor record and the facets parsed from its name."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import UnsafePathError

NAME_RE = re.compile(
    r"^(?P<id>\d{1,6})_(?P<eth>[a-z][a-z_]*?)_(?P<age>\d{1,3})_(?P<gender>[a-z]+)$")
SAFE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,127}$")


def check_actor_name(name: str) -> str:
    """Refuse names that could escape a folder or an S3 prefix."""
    if not isinstance(name, str) or not SAFE_NAME_RE.match(name):
        raise UnsafePathError(
            f"Actor name {name!r} is not allowed: use letters, digits, '_' and '-' only "
            "(no '/', '..' or spaces)."
        )
    return name


#: consonants only: a token spelt from them is no word of any language a text encoder knows
#: well, so it starts with no meaning of its own (the reason trainers use "sks" or "ohwx")
_CONSONANTS = "bcdfghjklmnpqrstvwxz"
#: a trigger word: 2-64 characters, no comma (captions are comma-separated tags), no line
#: break, and not starting with '#' (comment syntax in some trainers' caption tools)
TRIGGER_RE = re.compile(r"[^\s,#][^,\n\r\t]{0,62}[^\s,]\Z")


def default_trigger(name: str) -> str:
    """A rare token for ``name``, the same on every machine: ``"zq"`` and four consonants
    chosen by the SHA-256 of the name (e.g. ``zqkvtm``). Not a real word, so the LoRA gives it
    a meaning instead of fighting the one the text encoder already has."""
    digest = hashlib.sha256(name.encode()).digest()
    return "zq" + "".join(_CONSONANTS[b % len(_CONSONANTS)] for b in digest[:4])


def trigger_problem(value: object) -> str:
    """Why ``value`` cannot be a trigger word ("" if it can)."""
    if not isinstance(value, str):
        return "must be a string"
    if not TRIGGER_RE.match(value) or not value.isprintable():
        return ("must be 2 to 64 characters, without commas or line breaks, not starting "
                "with '#' or a space")
    return ""


@dataclass(frozen=True)
class Facets:
    """What a name like ``0002_european_35_female`` says about the actor."""

    number: int | None
    ethnicity: str | None
    age: int | None
    gender: str | None

    @classmethod
    def from_name(cls, name: str) -> Facets:
        m = NAME_RE.match(name)
        if not m:
            return cls(None, None, None, None)
        return cls(int(m["id"]), m["eth"], int(m["age"]), m["gender"])

    @property
    def age_band(self) -> str:
        if self.age is None:
            return "unknown"
        lo = (self.age // 10) * 10
        return f"{lo}-{lo + 9}"


@dataclass
class Actor:
    """One entry of ``actors.json``; fields actorbench does not know are kept in ``extra``."""

    id: int | str
    name: str
    training_data: dict[str, Any] | None = None
    validated_lora_model: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def facets(self) -> Facets:
        return Facets.from_name(self.name)

    @property
    def trigger_word(self) -> str:
        """The registry's ``trigger_word``, else ``default_trigger(name)``."""
        value = self.extra.get("trigger_word")
        return value if isinstance(value, str) and not trigger_problem(value) else \
            default_trigger(self.name)

    @property
    def ref(self) -> str:
        return str(self.id)

    @property
    def s3_urls(self) -> list[str]:
        return list((self.training_data or {}).get("s3_urls") or [])

    @property
    def image_count(self) -> int:
        td = self.training_data or {}
        return int(td.get("count") or len(td.get("s3_urls") or []))

    @property
    def synced(self) -> bool:
        return bool((self.training_data or {}).get("synced"))

    @property
    def has_validated_model(self) -> bool:
        return bool(self.validated_lora_model)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name}
        out.update(self.extra)
        if self.training_data is not None:
            out["training_data"] = self.training_data
        if self.validated_lora_model is not None:
            out["validated_lora_model"] = self.validated_lora_model
        return out
