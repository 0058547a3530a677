"""The Reports page's Training tab: versions per actor, success rate, cost, and how the
estimates compared with what RunPod billed (``reports.training.build_training_report``), in
words, whole numbers and dollars."""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import pandas as pd

from actorbench.present.html import Html, h, join
from actorbench.present.words import money, percent, plural
from actorbench.reports.training import TrainingReport

#: the per-actor table: (title, column of ``TrainingReport.actors``)
COLUMNS = [("Actor", "actor"), ("Versions", "versions"), ("Completed", "completed"),
           ("Failed", "failed"), ("Success rate", "success_rate"), ("Cost", "cost_usd"),
           ("Estimated", "estimate_usd"), ("Actual vs estimate", "ratio")]


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def versus(actual: Any, estimate: Any) -> str:
    """``"93% of the estimate"``, ``"as estimated"``, ``"under 1% of the estimate"``."""
    a, e = _number(actual), _number(estimate)
    if a is None or e is None or e <= 0:
        return "—"
    ratio = a / e
    if abs(ratio - 1) < 0.005:
        return "as estimated"
    return "under 1% of the estimate" if ratio < 0.01 else f"{ratio:.0%} of the estimate"


def totals_words(totals: dict[str, Any]) -> Html:
    """``"3 versions · 2 completed · 1 failed · 67% succeeded · $1.20 spent · actual cost 88%
    of the estimate"``."""
    ratio = _number(totals.get("estimate_vs_actual"))
    return join([h("b", plural(totals.get("versions") or 0, "version")), " · ",
                 h("b", str(int(totals.get("completed") or 0))), " completed · ",
                 h("b", str(int(totals.get("failed") or 0))), " failed · ",
                 h("b", percent(totals.get("success_rate"))), " succeeded · ",
                 h("b", money(totals.get("cost_usd") or 0.0)), " spent · ",
                 *(("actual cost ", h("b", versus(ratio, 1.0))) if ratio is not None
                   else (h("b", "no measured run yet"),))])


def actors_table(report: TrainingReport) -> Html:
    """One row per actor that has a version; every cell in words, escaped."""
    per = report.actors.reset_index()
    if per.empty:
        return h("i", "No training yet: launch one on the Training page.")
    head = h("tr", *(h("th", title) for title, _ in COLUMNS))
    # actual against estimate over the runs that have both (a running one has no actual yet)
    measured = report.versions.dropna(subset=["actual_usd", "estimate_usd"]).groupby(
        "actor")[["actual_usd", "estimate_usd"]].sum()
    rows = []
    for _, r in per.iterrows():
        m = measured.loc[r["actor"]] if r["actor"] in measured.index else None
        cells = {"actor": r["actor"], "versions": str(int(r["versions"])),
                 "completed": str(int(r["completed"])), "failed": str(int(r["failed"])),
                 "success_rate": percent(_number(r["success_rate"])),
                 "cost_usd": money(_number(r["cost_usd"]) or 0.0),
                 "estimate_usd": money(_number(r["estimate_usd"])),
                 "ratio": versus(*(m if m is not None else (None, None)))}
        rows.append(h("tr", *(h("td", cells[c], cls=f"ab-col-{c.replace('_', '-')}")
                              for _, c in COLUMNS)))
    return h("table", head, *rows, cls=["ab-table", "ab-report-grid"])


class TrainingReportPanel(w.VBox):
    """``show(report)`` fills the totals line and the per-actor table."""

    def __init__(self) -> None:
        self.totals = w.HTML()
        self.totals.add_class("ab-training-report-totals")
        self.table = w.HTML(layout=w.Layout(width="100%"))
        self.table.add_class("ab-training-report-table")
        super().__init__([self.totals, self.table])

    def show(self, report: TrainingReport) -> None:
        self.totals.value = totals_words(report.totals)
        self.table.value = actors_table(report)
