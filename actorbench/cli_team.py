"""`actorbench versions`, `mark-good` and `train`: the training ledger from the command line,
the same with local files or in team mode (ACTORBENCH_TEAM=1)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .cli_base import _emit, _wb
from .errors import ActorbenchError

if TYPE_CHECKING:
    from .training import TrainingService
    from .workbench import Workbench

Command = Callable[..., argparse.ArgumentParser]


def _service() -> tuple[Workbench, TrainingService]:
    from .training import TrainingService

    wb = _wb()
    return wb, TrainingService(wb)


def _row(v: Any) -> dict[str, Any]:
    d = v.to_dict()
    d.pop("webhook_secret", None)  # proves a webhook is RunPod's: never printed
    d["status"] = str(d["status"])
    return d


def _by(record: dict[str, Any] | None) -> str:
    if not record or not record.get("user"):
        return "?"
    return f"{record['user']}@{record.get('machine') or '?'}"


def versions(a: argparse.Namespace) -> None:
    """Every training version of an actor: status, who launched it, and the good one."""
    wb, svc = _service()
    actor = wb.registry.get(a.actor)
    rows = [_row(v) for v in svc.versions.load(actor.id)]
    good = actor.validated_lora_model
    lines = [f"{actor.name} (id {actor.id}): {len(rows)} version(s)"
             + (" [team]" if wb.team is not None else "")]
    for r in rows:
        lines.append(f"  {r['name']:<5} {r['id']}  {r['status']:<13} {r['created_at']}  "
                     f"by {_by(r)}" + (f"  job {r['job_id']}" if r.get("job_id") else "")
                     + ("  ✓ good" if r.get("isGood") else ""))
    if good:
        lines.append(f"  good: {good.get('version_name')} ({good.get('version_id')}), marked by "
                     f"{_by(good)} at {good.get('marked_at')}")
    from .cli_faces import version_faces

    likeness, more = version_faces(wb, actor.name, svc.versions.load(actor.id))
    _emit({"actor": actor.name, "id": actor.id, "team": wb.team is not None,
           "versions": rows, "validated_lora_model": good, "likeness": likeness}, a.json,
          "\n".join(lines + more))


def mark_good(a: argparse.Namespace) -> None:
    """Mark a completed version (id or name, e.g. v3) as the actor's validated model."""
    wb, svc = _service()
    actor = wb.registry.get(a.actor)
    known = svc.versions.load(actor.id)
    match = ([v for v in known if v.id == a.version] or
             [v for v in known if v.name == a.version])
    if len(match) != 1:
        raise ActorbenchError(f"Actor {actor.name} has {'no' if not match else 'several'} "
                              f"version(s) {a.version!r}; `actorbench versions {actor.name}` "
                              "lists them.")
    chosen = svc.mark_good(actor.name, match[0].id)
    good = wb.registry.get(actor.name).validated_lora_model or {}
    human = f"{actor.name}: {chosen.name} is the validated model (marked by {_by(good)})."
    if good.get("version_id") != chosen.id:  # a later mark from another workstation won
        human = (f"{actor.name}: {chosen.name} was marked, but a later mark by {_by(good)} "
                 f"at {good.get('marked_at')} chose {good.get('version_name')}.")
    _emit({"actor": actor.name, "marked": chosen.id, "validated_lora_model": good}, a.json,
          human)


def add_commands(command: Command) -> None:
    """Register the three commands with ``cli._parser``'s ``command`` helper."""
    p = command(versions, actors=False)
    p.add_argument("actor", help="Actor name or id.")
    p = command(mark_good, "mark-good", actors=False)
    p.add_argument("actor", help="Actor name or id.")
    p.add_argument("version", help="Version id or name (v3).")
    from .cli_train import add_train_command

    add_train_command(command)
