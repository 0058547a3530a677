"""`actorbench train`: plan, then launch LoRA trainings; follow, cancel and retry them.

    actorbench train ACTOR... [--preset sdxl|sd15|flux] [--gpu NAME] [--dry-run] [--yes]
    actorbench train status ACTOR [VERSION]
    actorbench train cancel ACTOR [VERSION]
    actorbench train retry  ACTOR VERSION

The plan is printed first (per actor: images, repeats, epochs, steps, time and cost; totals);
nothing launches without ``--yes`` or a "y" typed at a terminal. Actors with blockers are
refused by name. The same ledger and rules as the dashboard: a second launch of an actor with a
job queued or running is refused unless ``--yes-another``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import ActorbenchError, AlreadyTraining
from ..terminal import inert
from .context import CliContext, Exit, echo, emit

if TYPE_CHECKING:
    from ..training import Prepared, TrainingVersion

PRESETS = {"sdxl": "sdxl", "sd15": "sd15", "flux": "flux1-dev"}
ACTIONS = ("status", "cancel", "retry")


def train(a: argparse.Namespace, ctx: CliContext) -> None:
    """Plan and launch LoRA trainings (or: train status|cancel|retry ACTOR [VERSION])."""
    if a.targets and a.targets[0] in ACTIONS:
        _follow(ctx, a.targets[0], a.targets[1:], a.json)
        return
    if not a.targets:
        raise ActorbenchError("Name at least one actor to train (name or id).")
    from ..training import TrainingParams, TrainingService

    wb = ctx.workbench()
    svc = TrainingService(wb)
    overrides: dict[str, Any] = {"gpu": a.gpu} if a.gpu else {}
    base = TrainingParams.from_preset(PRESETS[a.preset], **overrides)
    preps = [svc.prepare(ref, base) for ref in a.targets]
    plan = [_plan_row(p) for p in preps]
    total_s = sum(r["seconds"] for r in plan if not r["blockers"])
    total_usd = sum(r["cost_usd"] for r in plan if not r["blockers"])
    ready = [p for p, r in zip(preps, plan, strict=True) if not r["blockers"]]
    human = "\n".join(_plan_line(r) for r in plan) + (
        f"\ntotal: {len(ready)} to launch, about {_minutes(total_s)}, ${total_usd:.2f}")
    if a.dry_run or not ready:
        emit({"plan": plan, "launched": [], "dry_run": a.dry_run}, a.json, human)
        if not ready:
            raise Exit(1)
        return
    if not a.yes:
        if not (sys.stdin.isatty() and not a.json):
            echo(human)
            raise ActorbenchError("Nothing launched: add --yes to launch (or --dry-run to only "
                                  "see the plan).")
        echo(human)
        if input(f"Launch {len(ready)} training(s) for about ${total_usd:.2f}? [y/N] "
                 ).strip().lower() not in ("y", "yes"):
            echo("Nothing launched.")
            return
    launched, refused = [], []
    for prep in ready:
        try:
            v = svc.launch(prep, another=a.yes_another)
            launched.append({"actor": prep.actor, **_version(v)})
        except (AlreadyTraining, ActorbenchError) as exc:
            refused.append({"actor": prep.actor, "reason": str(exc)})
    lines = [human] + [f"launched {r['actor']} {r['name']} (job {inert(r['job_id'])})"
                       for r in launched] + [f"not launched {r['actor']}: {inert(r['reason'])}"
                                             for r in refused]
    emit({"plan": plan, "launched": launched, "refused": refused}, a.json, "\n".join(lines))
    if refused or any(r["blockers"] for r in plan):
        raise Exit(1)


def _plan_row(p: Prepared) -> dict[str, Any]:
    return {"actor": p.actor, "images": p.validation.images, "repeats": p.params.repeats,
            "epochs": p.params.epochs, "steps": p.params.max_train_steps,
            "base_model": p.params.base_model, "gpu": p.estimate.gpu,
            "seconds": round(p.estimate.seconds), "cost_usd": round(p.estimate.cost_usd, 2),
            "blockers": [f.message for f in p.validation.blockers],
            "warnings": [f.message for f in p.validation.warnings],
            "trigger_word": p.params.trigger_word,
            "captions": [{"index": i, "caption": c.text, "source": c.source}
                         for i, c in sorted(p.validation.captions.items())]}


def _plan_line(r: dict[str, Any]) -> str:
    if r["blockers"]:
        return f"{r['actor']}: refused: " + " ".join(r["blockers"])
    return (f"{r['actor']}: {r['images']} images, {r['repeats']} repeats x {r['epochs']} "
            f"epochs -> {r['steps']} steps on {r['gpu']}, about {_minutes(r['seconds'])}, "
            f"${r['cost_usd']:.2f}" + _captions_line(r)
            + "".join(f"\n  warning: {w}" for w in r["warnings"]))


def _captions_line(r: dict[str, Any]) -> str:
    """``captions: 5 written, 7 drafts, trigger "zqkvtm" first`` (what the job carries)."""
    caps = r.get("captions") or []
    if not caps:
        return ""
    written = sum(1 for c in caps if c["source"].split(",")[0] in ("person", "draft"))
    return (f"\n  captions: {written} written, {len(caps) - written} drafts, trigger "
            f"{r['trigger_word']!r} first (actorbench captions {r['actor']} shows them)")


def _minutes(seconds: float) -> str:
    m = round(seconds / 60)
    return f"{m} min" if m < 90 else f"{m / 60:.1f} h"


def _version(v: TrainingVersion) -> dict[str, Any]:
    from ..training.status import stage_of

    prog = v.progress or {}
    return {"id": v.id, "name": v.name, "status": str(v.status), "job_id": v.job_id,
            "stage": stage_of(v), "step": prog.get("step"), "total_steps":
            prog.get("total_steps"), "eta_s": prog.get("eta_s"), "lora_url": v.lora_url,
            "error": v.error, "user": v.user, "machine": v.machine}


def _follow(ctx: CliContext, action: str, rest: list[str], as_json: bool) -> None:
    from ..training import TrainingService

    if not rest:
        raise ActorbenchError(f"train {action} needs an actor (and maybe a version).")
    wb = ctx.workbench()
    svc = TrainingService(wb)
    actor = wb.registry.get(rest[0])
    wanted = rest[1] if len(rest) > 1 else None
    versions = svc.poll(actor.name)
    chosen = _pick(versions, wanted, action)
    act: Callable[[str, str], TrainingVersion] | None = {
        "cancel": svc.cancel, "retry": svc.retry}.get(action)
    if act is not None:
        if chosen is None:
            raise ActorbenchError(f"{actor.name} has no version to {action}"
                                  + (f" named {wanted!r}." if wanted else "."))
        chosen = act(actor.name, chosen.id)
    rows = [_version(v) for v in ([chosen] if chosen is not None else versions)]
    human = "\n".join(
        f"{actor.name} {inert(r['name'])}: {inert(r['stage'])}"
        + (f" (step {r['step']} / {r['total_steps']}"
           + (f", {_minutes(r['eta_s'])} left" if r.get("eta_s") else "") + ")"
           if r["stage"] in ("training", "sampling") and r.get("step") is not None else "")
        + (f": {inert(r['error'])}" if r.get("error") else "")
        + (f" -> {inert(r['lora_url'])}" if r.get("lora_url") else "") for r in rows) \
        or f"{actor.name}: no training versions yet."
    emit({"actor": actor.name, "versions": rows}, as_json, human)


def _pick(versions: list[TrainingVersion], wanted: str | None, action: str
          ) -> TrainingVersion | None:
    from ..training.status import ACTIVE, RETRYABLE

    if wanted:
        match = [v for v in versions if wanted in (v.id, v.name)]
        if not match:
            raise ActorbenchError(f"No version {wanted!r}: `actorbench versions` lists them.")
        return match[0]
    if action == "cancel":
        return next((v for v in reversed(versions) if v.status in ACTIVE), None)
    if action == "retry":
        return next((v for v in reversed(versions) if v.status in RETRYABLE), None)
    return None


def add_train_command(command: Callable[..., argparse.ArgumentParser]) -> None:
    p = command(train, actors=False)
    p.add_argument("targets", nargs="*", metavar="ACTOR",
                   help="Actors to train; or status|cancel|retry ACTOR [VERSION].")
    p.add_argument("--preset", choices=sorted(PRESETS), default="sdxl")
    p.add_argument("--gpu", help="RunPod GPU (prices in the estimate), e.g. L40S, A100.")
    p.add_argument("--dry-run", action="store_true", help="Print the plan; launch nothing.")
    p.add_argument("--yes", action="store_true", help="Launch without asking.")
    p.add_argument("--yes-another", action="store_true",
                   help="Launch even though a job of the actor is queued or running "
                        "(maybe started from another workstation).")
