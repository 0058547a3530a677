"""Trained versions per actor, a durable record of every RunPod job, and "mark as good"."""

from __future__ import annotations

import secrets
import uuid
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..actors.registry import Registry, read_json
from ..errors import ActorbenchError, RegistryError
from ..fsutil import atomic_write_json, file_lock
from ..storage.layout import Layout
from .runpod import RunPodError, check_url

ACTIVE = {"LAUNCHING", "IN_QUEUE", "IN_PROGRESS"}


@dataclass
class TrainingVersion:
    id: str
    name: str
    created_at: str
    parameters: dict[str, Any]
    images: list[dict[str, str]]
    status: str = "LAUNCHING"
    job_id: str | None = None
    timings: dict[str, Any] = field(default_factory=dict)
    lora_url: str | None = None
    isGood: bool = False  # noqa: N815 - the seed's field name
    error: str | None = None
    progress: dict[str, Any] | None = None
    estimate: dict[str, Any] | None = None
    webhook_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    @classmethod
    def new(cls, name: str, created_at: str, parameters: dict[str, Any],
            images: list[dict[str, str]]) -> TrainingVersion:
        return cls(uuid.uuid4().hex[:12], name, created_at, parameters, images)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainingVersion:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class VersionStore:
    """``data/actor_training_versions/{actor_id}.json`` = ``{"versions": [...]}``."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def path(self, actor_id: str | int) -> Path:
        return self.layout.versions_path(actor_id)

    def lock(self, actor_id: str | int) -> AbstractContextManager[None]:
        p = self.path(actor_id)
        return file_lock(p.with_name(f".{p.name}.lock"), what=f"versions of actor {actor_id}")

    def load(self, actor_id: str | int) -> list[TrainingVersion]:
        p = self.path(actor_id)
        if not p.exists():
            return []
        data = read_json(p)
        if not isinstance(data, dict) or not isinstance(data.get("versions"), list):
            raise RegistryError(p, 'must hold {"versions": [...]}')
        out = []
        for i, raw in enumerate(data["versions"]):
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                raise RegistryError(p, f"version #{i} must be an object with a string id")
            try:
                out.append(TrainingVersion.from_dict(raw))
            except TypeError as exc:
                raise RegistryError(p, f"version #{i} is incomplete ({exc})") from None
        return out

    def save(self, actor_id: str | int, versions: list[TrainingVersion]) -> None:
        atomic_write_json(self.path(actor_id), {"versions": [v.to_dict() for v in versions]})

    def mark_good(self, registry: Registry, actor_ref: str, version_id: str,
                  marked_at: str) -> TrainingVersion:
        """Exactly one good version; ``validated_lora_model`` written atomically in actors.json."""
        actor = registry.get(actor_ref)
        with self.lock(actor.id):
            versions = self.load(actor.id)
            chosen = next((v for v in versions if v.id == version_id), None)
            if chosen is None:
                raise ActorbenchError(f"Actor {actor.name} has no version {version_id!r}.")
            if chosen.status != "COMPLETED" or not chosen.lora_url:
                raise ActorbenchError(f"Version {chosen.name} is {chosen.status}: only a "
                                      "completed version with a LoRA can be marked good.")
            try:  # the record is a file: what goes into actors.json is checked again
                check_url(chosen.lora_url, f"Version {chosen.name}'s lora_url")
            except RunPodError as exc:
                raise ActorbenchError(str(exc)) from None
            for v in versions:
                v.isGood = v.id == version_id
            self.save(actor.id, versions)
            registry.update(actor.name, lambda raw: raw.update(validated_lora_model={
                "version_id": chosen.id, "version_name": chosen.name,
                "lora_url": chosen.lora_url, "marked_at": marked_at,
                "parameters": chosen.parameters}))
        return chosen
