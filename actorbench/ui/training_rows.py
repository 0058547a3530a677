"""The Training page's pieces of markup: a version row, the dataset's validation and overview
(every value from a record or an image shown as text)."""

from __future__ import annotations

from ..palette import JOB_TONE, job_tone
from ..sync.plan import ActorPlan
from ..training import TrainingVersion
from ..training.validate import Validation
from .html import Html, css_class, h, join
from .library import counts_html
from .words import job_status_word, plural, short_time

#: a job's badge class (the palette's image status of the same meaning), by status
STATUS_CLASS = {status: tone.value for status, tone in JOB_TONE.items()}


def version_row(v: TrainingVersion) -> Html:
    """One row of the versions table: every field shown as text (a record is a file anyone
    may have edited), the status classes picked from ``STATUS_CLASS``, never built from it."""
    params = v.parameters if isinstance(v.parameters, dict) else {}
    status = str(v.status)
    badge = h("span", job_status_word(v.status),
              cls=["ab-badge", f"ab-status-{job_tone(status).value}",
                   css_class("ab-job", status, STATUS_CLASS)])
    error = h("small", v.error, cls="ab-job-error") if v.error else ""
    return h("tr", h("td", v.name),
             h("td", short_time(v.created_at), title=str(v.created_at), cls="ab-nowrap"),
             h("td", badge, " ", error),
             h("td", f"{params.get('base_model')} · {params.get('max_train_steps')} steps"),
             h("td", h("code", v.lora_url or "")), h("td", "✅ good" if v.isGood else ""))


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
