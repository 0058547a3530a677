"""The Reports page's Identity tab: per actor how many pictures fit, the outliers, pose and
framing coverage; per version the likeness of its samples; and the plot
(``reports.identity``). Built from the cached analyses only (``faces.health``): the report
never analyses a picture; `actorbench faces` and the Training Data page do."""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import pandas as pd

from actorbench.present.html import Html, h
from actorbench.present.words import percent, plural
from actorbench.reports.identity import IdentityReport

#: the per-actor table: (title, column of ``IdentityReport.actors``)
ACTOR_COLUMNS = [("Actor", "actor"), ("Images", "images"), ("Fit", "fit"),
                 ("Other person?", "outliers"), ("No face", "no_face"),
                 ("Small or blurred", "small_or_blurred"), ("Poses", "poses"),
                 ("Framings", "framings"), ("The set lacks", "lacks")]
VERSION_COLUMNS = [("Actor", "actor"), ("Version", "version"), ("Likeness", "likeness"),
                   ("One face", "one_face"), ("Best checkpoint", "best_step"),
                   ("Gain over the base model", "gain")]


def build_cached_identity(layout: Any, ledgers: dict[str, list[Any]]) -> IdentityReport:
    """The identity report of every actor analysed already (slow for a large library: a
    cache file per actor; call it off the UI thread)."""
    from actorbench.faces.health import cached_identity, cached_scores
    from actorbench.reports.identity import build_identity_report

    found, scores = [], {}
    for actor, versions in ledgers.items():
        ident = cached_identity(layout, actor)
        if ident is None:
            continue
        found.append(ident)
        scored = cached_scores(layout, ident, versions)
        if scored:
            scores[actor] = scored
    return build_identity_report(found, scores)


def _cell(value: Any, column: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if column in ("likeness", "one_face"):
        return percent(float(value))
    if column == "gain":
        return f"{float(value):+.0%}"
    if column in ("images", "fit", "outliers", "no_face", "small_or_blurred", "best_step"):
        return str(int(value))
    return str(value) or "—"


def identity_table(df: pd.DataFrame, columns: list[tuple[str, str]], empty: str) -> Html:
    if df.empty:
        return h("i", empty)
    head = h("tr", *(h("th", title) for title, _ in columns))
    rows = []
    for _, r in df.iterrows():
        photographic = bool(r.get("photographic", True))
        cells = [h("td", _cell(r[c], c), cls=f"ab-col-{c.replace('_', '-')}")
                 for _, c in columns]
        if not photographic:  # said once, not as a row of zeros
            cells = [cells[0], cells[1], h("td", r["health"], colspan=len(columns) - 2,
                                           cls="ab-identity-na")]
        rows.append(h("tr", *cells))
    return h("table", head, *rows, cls=["ab-table", "ab-report-grid", "ab-identity-report"])


class IdentityReportPanel(w.VBox):
    """``show(report)`` fills the line, the two tables and the plot."""

    def __init__(self) -> None:
        self.summary = w.HTML()
        self.summary.add_class("ab-identity-summary")
        self.actors = w.HTML(layout=w.Layout(width="100%"))
        self.actors.add_class("ab-identity-actors")
        self.versions = w.HTML(layout=w.Layout(width="100%"))
        self.versions.add_class("ab-identity-versions")
        self.plot = w.Image(format="png", layout=w.Layout(display="none"))
        self.plot.add_class("ab-identity-plot")
        super().__init__([self.summary, self.actors, w.HTML("<h4>Trained versions</h4>"),
                          self.versions, self.plot])

    def show(self, report: IdentityReport) -> None:
        from actorbench.faces import available
        from actorbench.faces.models import INSTALL_HINT

        a = report.actors
        if a.empty:
            self.summary.value = h("div", "No face analysis yet: `actorbench faces ACTOR` or "
                                   "the Training Data page analyses an actor's pictures.",
                                   *(() if available() else (h("br"), INSTALL_HINT)),
                                   cls="ab-identity-summary-line")
        else:
            attention = int((a["photographic"] & (a["fit"].fillna(0) < a["images"])).sum())
            self.summary.value = h(
                "div", h("b", plural(len(a), "actor")), " analysed · ",
                h("b", str(attention)), " need attention (a picture of another person, with "
                "no face or two) · from the last analysis of each; likeness 50 % is the "
                "same-person cut.", cls="ab-identity-summary-line")
        self.actors.value = identity_table(a, ACTOR_COLUMNS, "")
        self.versions.value = identity_table(
            report.versions, VERSION_COLUMNS,
            "No version scored yet: the Training page measures them.")
        if a.empty:
            self.plot.layout.display = "none"
            return
        from actorbench.reports.identity import identity_plot
        from actorbench.reports.plots import png

        self.plot.value = png(identity_plot(report))
        self.plot.layout.display = "block"
