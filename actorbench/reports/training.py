"""The training tab of the reports: versions, success, cost (estimate against actual), and
seconds per step per GPU measured from past runs (which calibrate the next estimates)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import ActorbenchError
from ..training.costs import (  # noqa: F401 (calibration, all_local_versions: re-exported)
    _versions_of,
    actual_cost,
    actual_seconds,
    all_local_versions,
    calibration,
    gpu_of,
)
from ..training.status import JobStatus
from ..training.versions import TrainingVersion

FINISHED_OK = {JobStatus.COMPLETED}
FINISHED_BAD = {JobStatus.FAILED, JobStatus.TIMED_OUT, JobStatus.LAUNCH_FAILED,
                JobStatus.LOST}








def version_rows(ledgers: dict[str, list[TrainingVersion]]) -> pd.DataFrame:
    """One row per version of every actor."""
    rows = []
    for actor, versions in ledgers.items():
        for v in versions:
            est = v.estimate or {}
            rows.append({"actor": actor, "version": v.name, "status": str(v.status),
                         "user": v.user, "gpu": gpu_of(v),
                         "steps": (v.parameters or {}).get("max_train_steps"),
                         "estimate_s": est.get("seconds"), "actual_s": actual_seconds(v),
                         "queue_s": _seconds((v.timings or {}).get("delay_ms")),
                         "estimate_usd": est.get("cost_usd"), "actual_usd": actual_cost(v),
                         "good": bool(v.isGood)})
    cols = ["actor", "version", "status", "user", "gpu", "steps", "estimate_s", "actual_s",
            "queue_s", "estimate_usd", "actual_usd", "good"]
    return pd.DataFrame(rows, columns=cols)


def _seconds(ms: Any) -> float | None:
    return float(ms) / 1000 if isinstance(ms, int | float) and ms >= 0 else None


@dataclass
class TrainingReport:
    versions: pd.DataFrame  # one row per version
    actors: pd.DataFrame  # per actor: versions, completed, failed, success rate, cost
    totals: dict[str, Any]


def build_training_report(ledgers: dict[str, list[TrainingVersion]]) -> TrainingReport:
    df = version_rows(ledgers)
    done = df["status"].isin([str(s) for s in FINISHED_OK])
    bad = df["status"].isin([str(s) for s in FINISHED_BAD])
    per = df.assign(completed=done, failed=bad).groupby("actor", sort=True).agg(
        versions=("version", "count"), completed=("completed", "sum"),
        failed=("failed", "sum"), cost_usd=("actual_usd", "sum"),
        estimate_usd=("estimate_usd", "sum")) if len(df) else pd.DataFrame(
        columns=["versions", "completed", "failed", "cost_usd", "estimate_usd"])
    finished = per["completed"] + per["failed"]
    per["success_rate"] = (per["completed"] / finished.where(finished > 0)).astype("Float64")
    measured = df.dropna(subset=["actual_usd", "estimate_usd"])
    totals = {"versions": int(len(df)), "completed": int(done.sum()), "failed": int(bad.sum()),
              "success_rate": (float(done.sum() / (done.sum() + bad.sum()))
                               if (done.sum() + bad.sum()) else None),
              "cost_usd": round(float(df["actual_usd"].fillna(0).sum()), 4),
              "estimate_vs_actual": (round(float(measured["actual_usd"].sum()
                                                 / measured["estimate_usd"].sum()), 3)
                                     if len(measured) and measured["estimate_usd"].sum() else None)}
    return TrainingReport(df, per, totals)




def local_ledgers(layout: Any, registry: Any) -> dict[str, list[TrainingVersion]]:
    """Every actor's ledger as this workstation last saw it (``actor_training_versions/``;
    in team mode those files are the cache of the shared ledgers)."""
    import json

    out: dict[str, list[TrainingVersion]] = {}
    for actor in registry:
        try:
            path = layout.versions_path(actor.id)
            raw = json.loads(path.read_text()) if path.is_file() else {}
        except (OSError, ValueError, RecursionError, ActorbenchError):
            continue  # one unreadable ledger must not stop the library's report
        out[actor.name] = _versions_of(raw)
    return out



