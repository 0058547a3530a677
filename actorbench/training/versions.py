"""Trained versions per actor, a durable record of every RunPod job, and "mark as good"."""

from __future__ import annotations

import secrets
import uuid
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..actors.model import Actor
from ..actors.registry import Registry, read_json
from ..errors import ActorbenchError, AlreadyTraining, RegistryError
from ..fsutil import atomic_write_json, file_lock
from ..storage.layout import Layout
from .runpod import RunPodError, check_url
from .status import ACTIVE, JobStatus


@dataclass
class TrainingVersion:
    id: str
    name: str
    created_at: str
    parameters: dict[str, Any]
    images: list[dict[str, str]]
    #: a ``JobStatus``; a value no member has (a hand-edited record) is kept as it is
    status: JobStatus | Any = JobStatus.LAUNCHING
    job_id: str | None = None
    timings: dict[str, Any] = field(default_factory=dict)
    lora_url: str | None = None
    isGood: bool = False  # the seed's field name
    error: str | None = None
    progress: dict[str, Any] | None = None
    estimate: dict[str, Any] | None = None
    webhook_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    user: str | None = None  # who launched it (ACTORBENCH_USER), and from which machine
    machine: str | None = None
    attempt: int = 0  # RunPod retries of the same job: a retried FAILED is IN_QUEUE again
    samples: list[dict[str, Any]] = field(default_factory=list)  # step, prompt, url
    loss: list[list[float]] = field(default_factory=list)  # [step, loss] from the worker

    @classmethod
    def new(cls, name: str, created_at: str, parameters: dict[str, Any],
            images: list[dict[str, str]]) -> TrainingVersion:
        return cls(uuid.uuid4().hex[:12], name, created_at, parameters, images)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainingVersion:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in raw.items() if k in known}
        if "status" in values:
            values["status"] = JobStatus.parse(values["status"]) or values["status"]
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class VersionStore:
    """``data/actor_training_versions/{actor_id}.json`` = ``{"versions": [...]}``."""

    def __init__(self, layout: Layout, who: dict[str, str] | None = None) -> None:
        self.layout = layout
        self.who = dict(who or {})  # {"user", "machine"}: stamped on launches and marks

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

    def record_launch(self, actor: Actor, versions: list[TrainingVersion],
                      version: TrainingVersion, another: bool = False) -> None:
        """Add ``version`` (not yet sent to RunPod) to ``versions`` and save, unless a job of
        the actor is queued or running and ``another`` does not confirm a second one."""
        active = [v for v in versions if v.status in ACTIVE]
        if active and not another:
            a = active[0]
            raise AlreadyTraining(actor.name, a.name, str(a.status), a.user, a.machine,
                                  a.created_at)
        version.user, version.machine = self.who.get("user"), self.who.get("machine")
        versions.append(version)
        self.save(actor.id, versions)

    def mark_good(self, registry: Registry, actor_ref: str, version_id: str,
                  marked_at: str) -> TrainingVersion:
        """Exactly one good version; ``validated_lora_model`` written atomically in actors.json."""
        actor = registry.get(actor_ref)
        with self.lock(actor.id):
            versions = self.load(actor.id)
            chosen = markable(actor.name, versions, version_id)
            for v in versions:
                v.isGood = v.id == version_id
            self.save(actor.id, versions)
            registry.update(actor.name, lambda raw: raw.update(
                validated_lora_model=mark_record(chosen, marked_at, self.who)))
        return chosen


def markable(actor: str, versions: list[TrainingVersion], version_id: str) -> TrainingVersion:
    """The version to mark as good: it exists, completed, and has a LoRA URL that is one."""
    chosen = next((v for v in versions if v.id == version_id), None)
    if chosen is None:
        raise ActorbenchError(f"Actor {actor} has no version {version_id!r}.")
    if chosen.status != JobStatus.COMPLETED or not chosen.lora_url:
        raise ActorbenchError(f"Version {chosen.name} is {chosen.status}: only a "
                              "completed version with a LoRA can be marked good.")
    try:  # the record is a file: what goes into actors.json is checked again
        check_url(chosen.lora_url, f"Version {chosen.name}'s lora_url")
    except RunPodError as exc:
        raise ActorbenchError(str(exc)) from None
    return chosen


def mark_record(chosen: TrainingVersion, marked_at: str, who: dict[str, str]) -> dict[str, Any]:
    """``validated_lora_model``: the version, its LoRA and parameters, when and by whom."""
    return {"version_id": chosen.id, "version_name": chosen.name, "lora_url": chosen.lora_url,
            "marked_at": marked_at, "parameters": chosen.parameters,
            "user": who.get("user"), "machine": who.get("machine")}
