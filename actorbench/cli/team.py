"""`actorbench versions`, `mark-good` and `train`: the training ledger from the command line,
the same with local files or in team mode (ACTORBENCH_TEAM=1)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import ActorbenchError
from ..terminal import inert
from .context import CliContext, Exit, emit

if TYPE_CHECKING:
    from ..training import TrainingService
    from ..workbench import Workbench

Command = Callable[..., argparse.ArgumentParser]


def _service(ctx: CliContext) -> tuple[Workbench, TrainingService]:
    from ..training import TrainingService

    wb = ctx.workbench()
    return wb, TrainingService(wb)


def _row(v: Any) -> dict[str, Any]:
    d = v.to_dict()
    d.pop("webhook_secret", None)  # proves a webhook is RunPod's: never printed
    d["status"] = str(d["status"])
    return d


def _by(record: dict[str, Any] | None) -> str:
    if not record or not record.get("user"):
        return "?"
    return inert(f"{record['user']}@{record.get('machine') or '?'}")


def versions(a: argparse.Namespace, ctx: CliContext) -> None:
    """Every training version of an actor: status, who launched it, and the good one."""
    wb, svc = _service(ctx)
    actor = wb.registry.get(a.actor)
    rows = [_row(v) for v in svc.versions.load(actor.id)]
    good = actor.validated_lora_model
    lines = [f"{actor.name} (id {actor.id}): {len(rows)} version(s)"
             + (" [team]" if wb.team is not None else "")]
    for r in rows:
        t = {k: inert(r.get(k) or "") for k in ("name", "id", "status", "created_at", "job_id")}
        lines.append(f"  {t['name']:<5} {t['id']}  {t['status']:<13} {t['created_at']}  "
                     f"by {_by(r)}" + (f"  job {t['job_id']}" if t["job_id"] else "")
                     + ("  ✓ good" if r.get("isGood") else ""))
    if good:
        lines.append(f"  good: {inert(good.get('version_name'))} ({inert(good.get('version_id'))})"
                     f", marked by {_by(good)} at {inert(good.get('marked_at'))}")
    from .faces import version_faces

    likeness, more = version_faces(wb, actor.name, svc.versions.load(actor.id))
    emit({"actor": actor.name, "id": actor.id, "team": wb.team is not None,
          "versions": rows, "validated_lora_model": good, "likeness": likeness}, a.json,
         "\n".join(lines + more))


def mark_good(a: argparse.Namespace, ctx: CliContext) -> None:
    """Mark a completed version (id or name, e.g. v3) as the actor's validated model."""
    wb, svc = _service(ctx)
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
    human = f"{actor.name}: {inert(chosen.name)} is the validated model (marked by {_by(good)})."
    if good.get("version_id") != chosen.id:  # a later mark (by revision) was kept instead
        human = (f"{actor.name}: {inert(chosen.name)} was marked, but a later mark by "
                 f"{_by(good)} at {inert(good.get('marked_at'))} chose "
                 f"{inert(good.get('version_name'))}.")
    took = good.get("version_id") == chosen.id
    emit({"actor": actor.name, "marked": chosen.id, "took_effect": took,
          "validated_lora_model": good}, a.json, human)
    if not took:  # a script must not go on as if its choice were the good model
        raise Exit(1)


def add_commands(command: Command) -> None:
    """Register the three commands with ``cli._parser``'s ``command`` helper."""
    p = command(versions, actors=False)
    p.add_argument("actor", help="Actor name or id.")
    p = command(mark_good, "mark-good", actors=False)
    p.add_argument("actor", help="Actor name or id.")
    p.add_argument("version", help="Version id or name (v3).")
    from .train import add_train_command

    add_train_command(command)
