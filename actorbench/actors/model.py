"""The Actor record and the facets parsed from its name."""

from __future__ import annotations

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
