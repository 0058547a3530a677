"""The Reports page: summary tables (sortable), plots, and a way to open an actor.

The report's DataFrames keep their column names (notebooks and CSVs read them); the page shows
them in words: counts as integers, sizes in KB/MB/GB, shares as percentages, statuses as the
palette's coloured badges with their labels, in a table that fits a 1400 px window.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import pandas as pd

from actorbench.present.html import Html, css_class, h, join
from actorbench.present.palette import IMAGE
from actorbench.present.words import duration, human_bytes, percent, plural, short_time
from actorbench.reports import PLOTS, build_report
from actorbench.reports.plots import png
from actorbench.reports.tables import COLUMN_TITLES, STATUS_COLS, CoverageReport
from actorbench.sync.plan import ImageStatus
from actorbench.ui.pages import TRAINING_DATA
from actorbench.ui.pages.reports.identity_panel import (
    IdentityReportPanel,
    build_cached_identity,
)
from actorbench.ui.pages.reports.model import SORTABLE, ReportsModel
from actorbench.ui.pages.reports.training_panel import TrainingReportPanel
from actorbench.ui.state import AppState
from actorbench.ui.widgets.actor_card import ethnicity_words
from actorbench.ui.widgets.common import ErrorBox, Worker, guarded

#: the table's columns: (title, how a row's cell is shown)
SHOWN = ["actor", "ethnicity", "gender", "age", "images", "status", "downloaded", "backed_up",
         "bytes_local", "last_sync", "trained_versions", "validated"]
#: what the plots' tabs are called
PLOT_TITLES = {"coverage": "Synced per actor", "status_mix": "Image status",
               "facets": "Balance by facet", "storage": "Storage",
               "training": "Training coverage"}


def whole(value: Any) -> str:
    """A count as an integer ("287", never "287.0"); "—" when there is none."""
    return "—" if value is None or pd.isna(value) else str(int(value))


def status_badges(row: Any) -> Html:
    """Each status the actor's images are in: colour and label, with how many."""
    badges = [h("span", f"{IMAGE[ImageStatus(s)].label} {int(row[s])}",
                cls=["ab-badge", css_class("ab-status", s, STATUS_COLS)])
              for s in STATUS_COLS if row[s]]
    return Html(" ".join(badges))


def cell(row: Any, column: str) -> object:
    if column == "status":
        return status_badges(row) or "no images"
    value = row[column]
    if column in ("downloaded", "backed_up"):
        return percent(value)
    if column == "last_sync":
        return short_time(value) or "never"
    if column.startswith("bytes_"):
        return human_bytes(int(value))
    if column in ("age", "images", "trained_versions"):
        return whole(value)
    if column == "validated":
        return "✅ yes" if bool(value) else "—"
    if column == "ethnicity" and isinstance(value, str):
        return ethnicity_words(value)  # "middle_eastern" -> "Middle Eastern"
    return "—" if value is None or (isinstance(value, float) and pd.isna(value)) else value


def actors_table(df: pd.DataFrame) -> Html:
    """The actors, one row each, in words; every cell escaped."""
    head = h("tr", *(h("th", COLUMN_TITLES.get(c, "Status")) for c in SHOWN))
    rows = [h("tr", *(h("td", cell(row, c), cls=["ab-col-" + c.replace("_", "-"),
                                                  *(["ab-nowrap"] if c == "last_sync" else [])])
                      for c in SHOWN)) for _, row in df.iterrows()]
    return h("table", head, *rows, cls=["ab-table", "ab-report-grid"])


def totals_line(totals: pd.DataFrame) -> Html:
    """``"287 actors · 24 with images · 11 fully synced · …"``: integers, shares, sizes."""
    t = {c: totals[c].iloc[0] for c in totals.columns}  # per column: ints stay ints
    return join([h("b", plural(t["actors"], "actor")), " · ",
                 h("b", whole(t["actors_with_images"])), " with images · ",
                 h("b", whole(t["fully_synced_actors"])), " fully synced · ",
                 h("b", percent(t["downloaded"])), " downloaded here · ",
                 h("b", percent(t["backed_up"])), " backed up in S3 · ",
                 h("b", plural(t["validated_actors"], "validated model")), " · ",
                 h("b", human_bytes(int(t["bytes_local"]))), " here, ",
                 h("b", human_bytes(int(t["bytes_s3"]))), " in S3"])


class ReportsView(w.VBox):
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.model = ReportsModel()
        self.errors = ErrorBox(self.model)
        self.worker = Worker(self.errors)
        self.build_button = w.Button(description="📊 Build report", button_style="primary")
        self.status = w.HTML()
        self.status.add_class("ab-report-status")
        self.sort_by = w.Dropdown(options=[(COLUMN_TITLES[c], c) for c in SORTABLE],
                                  value=self.model.sort_by, description="Sort by")
        self.ascending = w.Checkbox(value=True, description="lowest first", indent=False)
        self.only_images = w.Checkbox(value=True, description="only actors with images",
                                      indent=False)
        self.totals = w.HTML()
        self.totals.add_class("ab-report-totals")
        self.table = w.HTML(layout=w.Layout(width="100%"))
        self.table.add_class("ab-report-table")
        self.open_actor = w.Dropdown(options=[], description="Actor")
        self.open_button = w.Button(description="Open actor")
        self.plots = w.Tab()
        self.plots.add_class("ab-report-plots")
        for name in ("sort_by", "ascending", "only_images"):
            w.link((self.model, name), (getattr(self, name), "value"))
        self.training = TrainingReportPanel()  # versions, success, cost, estimate vs actual
        library = w.VBox([self.totals, w.HBox([self.sort_by, self.ascending, self.only_images]),
                          w.HBox([self.open_actor, self.open_button]), self.table, self.plots])
        self.identity = IdentityReportPanel()  # who is in the pictures; versions' likeness
        self.sections = w.Tab(children=[library, self.training, self.identity],
                              titles=["Library", "Training", "Identity"])
        self.sections.add_class("ab-report-sections")
        super().__init__([self.errors, w.HBox([self.build_button, self.status]), self.sections],
                         layout=w.Layout(max_width="1380px"))
        g = guarded(self.errors)
        self.build_button.on_click(g(lambda _: self.build()))
        self.model.observe(g(lambda _: self.render_table()),
                           ["sort_by", "ascending", "only_images"])
        self.open_button.on_click(g(self._on_open_click))

    @property
    def report(self) -> CoverageReport | None:
        return self.model.report

    def build(self) -> bool:
        self.status.value = "Building …"
        wb = self.state.wb

        def job() -> None:
            import time

            t0 = time.perf_counter()
            report = build_report(wb.engine, wb.registry, wb.layout)
            self.model.report = report
            self.render_table()
            self.render_plots()
            from actorbench.reports.training import build_training_report, local_ledgers

            ledgers = local_ledgers(wb.layout, wb.registry)
            self.training.show(build_training_report(ledgers))
            self.identity.show(build_cached_identity(wb.layout, ledgers))
            self.model.message = (f"Built in {duration(time.perf_counter() - t0)} over "
                                  f"{plural(len(report.actors), 'actor')}.")
            self.status.value = self.model.message

        return self.worker.start(job)

    def sorted_actors(self) -> pd.DataFrame:
        assert self.report is not None
        df = self.report.actors
        if self.model.only_images:
            df = df[df["images"] > 0]
        return df.sort_values([self.model.sort_by, "actor"],
                              ascending=[self.model.ascending, True], na_position="first")

    def render_table(self) -> None:
        if self.report is None:
            return
        self.totals.value = totals_line(self.report.totals)
        df = self.sorted_actors()
        self.table.value = actors_table(df)
        self.open_actor.options = list(df["actor"])

    def render_plots(self) -> None:
        assert self.report is not None
        images = [w.Image(value=png(fn(self.report)), format="png") for fn in PLOTS.values()]
        self.plots.children = images
        self.plots.titles = [PLOT_TITLES.get(k, k.replace("_", " ").capitalize())
                             for k in PLOTS]

    def _on_open_click(self, _: object) -> None:
        if self.open_actor.value:
            self.state.actor = self.open_actor.value
            self.state.open_page = TRAINING_DATA.title
