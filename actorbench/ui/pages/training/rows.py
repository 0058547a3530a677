"""The Training page's pieces of markup: a version row, the dataset's validation and overview
(every value from a record or an image shown as text)."""

from __future__ import annotations

from typing import Any

from actorbench.present.html import Html, css_class, h, join
from actorbench.present.palette import JOB_TONE, job_tone
from actorbench.present.words import duration, job_status_word, plural, short_time
from actorbench.sync.plan import ActorPlan
from actorbench.training import TrainingVersion
from actorbench.training.status import STAGES, Stage, stage_of
from actorbench.training.validate import Validation
from actorbench.ui.widgets.actor_card import counts_html

#: a job's badge class (the palette's image status of the same meaning), by status
STATUS_CLASS = {status: tone.value for status, tone in JOB_TONE.items()}


def _count(value: object) -> int | None:
    """A whole number a record holds (a step, a total), or None for anything else."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value \
            and 0 <= value < 1e12:
        return int(value)
    return None


def stage_label(v: TrainingVersion) -> str:
    """Where the job is, in words: ``"Training: step 120 / 400 · about 2 min left"``."""
    stage = stage_of(v)
    progress: dict[str, Any] = v.progress if isinstance(v.progress, dict) else {}
    step, total = _count(progress.get("step")), _count(progress.get("total_steps"))
    eta = _count(progress.get("eta_s"))
    where = f"step {step} / {total}" if step is not None and total else ""
    left = f"about {duration(eta)} left" if eta else ""
    if stage == Stage.QUEUED:
        return "Queued: waiting for a GPU"
    if stage == Stage.DOWNLOADING:
        return " · ".join(["Downloading the training images", *([left] if left else [])])
    if stage == Stage.TRAINING:
        return "Training" + (f": {where}" if where else "") + (f" · {left}" if left else "")
    if stage == Stage.SAMPLING:
        return "Sampling: rendering sample images" + (f" at {where}" if where else "")
    if stage == Stage.UPLOADING:
        return "Uploading the LoRA and its samples"
    if stage == Stage.DONE:
        return "Done: LoRA and samples are in S3"
    return job_status_word(v.status) + (f": {v.error}" if v.error else "")


def stage_html(v: TrainingVersion) -> Html:
    """The stepper (queued → … → done) with the job's stage lit, and its label; a job that
    ended otherwise (failed, cancelled, lost) says so instead."""
    stage = stage_of(v)
    label = h("span", v.name, " · ", stage_label(v), cls="ab-stage-label")
    if stage not in STAGES:
        return h("div", label, cls=["ab-stage", "ab-stage-ended"], data_stage="ended")
    now = STAGES.index(stage)
    steps = [h("li", Stage(s).label, cls=["ab-step", "ab-step-current" if i == now else
                                           "ab-step-past" if i < now else "ab-step-todo"])
             for i, s in enumerate(STAGES)]
    return h("div", h("ol", *steps, cls="ab-stepper"), label,
             cls=["ab-stage", css_class("ab-stage", stage, STAGES)], data_stage=stage)



def who_words(user: object, machine: object) -> str:
    """``"alice@ws-a"``; ``"—"`` when a record does not say."""
    user, machine = (str(x) if x else "" for x in (user, machine))
    return f"{user or 'someone'}@{machine}" if machine else (user or "—")


def mark_words(mark: object) -> str:
    """``"marked good by bob@ws-b · 22 Nov 14:05"`` from a ``validated_lora_model``."""
    if not isinstance(mark, dict):
        return ""
    when = short_time(mark.get("marked_at"))
    return "marked good by " + who_words(mark.get("user"), mark.get("machine")) + (
        f" · {when}" if when else "")


def version_row(v: TrainingVersion, mark: object = None, samples: object = "",
                likeness: object = "") -> Html:
    """One row of the versions table: every field shown as text (a record is a file anyone
    may have edited), the status classes picked from ``STATUS_CLASS``, never built from it.
    ``mark`` is the actor's ``validated_lora_model`` (who marked it); ``samples`` and
    ``likeness`` (how like the actor its samples are), markup."""
    params = v.parameters if isinstance(v.parameters, dict) else {}
    status = str(v.status)
    badge = h("span", job_status_word(v.status),
              cls=["ab-badge", f"ab-status-{job_tone(status).value}",
                   css_class("ab-job", status, STATUS_CLASS)])
    error = h("small", v.error, cls="ab-job-error") if v.error else ""
    mine = isinstance(mark, dict) and mark.get("version_id") == v.id
    good = (h("span", "✅ good", cls="ab-good"), h("br"),
            h("small", mark_words(mark), cls="ab-who")) if v.isGood and mine else \
        ("✅ good",) if v.isGood else ()
    return h("tr", h("td", v.name),
             h("td", short_time(v.created_at), title=str(v.created_at), cls="ab-nowrap"),
             h("td", who_words(v.user, v.machine), cls="ab-who"),
             h("td", badge, " ", error),
             h("td", f"{params.get('base_model')} · {params.get('max_train_steps')} steps"),
             h("td", samples, cls="ab-version-samples"),
             h("td", likeness, cls="ab-version-likeness"),
             h("td", h("code", v.lora_url or ""), cls="ab-lora"), h("td", *good))


def versions_table(rows: list[Html], base: object = "") -> Html:
    """The versions, newest first, beside the actor's base image (markup)."""
    if not rows:
        return Html("<i>No trainings yet.</i>")
    head = h("tr", *(h("th", t) for t in ("version", "created", "launched by", "status",
                                          "parameters", "samples", "likeness", "LoRA",
                                          "")))
    return h("div", h("figure", base, h("figcaption", "Base image"), cls="ab-base-fig"),
             h("table", head, *rows, cls="ab-table"), cls="ab-versions-wrap")


def validation_html(v: Validation) -> Html:
    """Blockers in red, warnings in amber, and green only when there is neither."""
    items = [h("li", "⛔ " if f.level == "blocker" else "⚠️ ", f.message,
               cls=css_class("ab", f.level, ("blocker", "warning"))) for f in v.findings]
    images = plural(v.images, "image")
    if v.blockers:
        head = h("div", f"⛔ Not ready to train: {plural(len(v.blockers), 'blocker')}"
                 + (f" and {plural(len(v.warnings), 'warning')}" if v.warnings else "")
                 + f" ({images} in S3).", cls="ab-error")
    elif v.warnings:
        head = h("div", f"⚠️ {images} in S3, with {plural(len(v.warnings), 'warning')}: "
                 "training can start, but read them first.", cls="ab-warn")
    else:
        head = h("div", f"✅ Dataset OK: {images} in S3.", cls="ab-ok")
    return join([head, h("ul", *items) if items else ""])


def progress_fraction(progress: object) -> float:
    """The 0..1 progress a record holds, or 0 when it holds something else."""
    value = progress.get("progress") if isinstance(progress, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    return 0.0


def overview_html(plan: ActorPlan, validation: Validation) -> Html:
    """``"16 images · 14 in S3"`` and the sync state's badges."""
    return join([h("div", plural(len(plan.changes), "image"), " · ",
                   f"{validation.images} in S3 (training reads S3)", cls="ab-train-count"),
                 Html(counts_html(plan.counts()) if plan.changes else "")])
