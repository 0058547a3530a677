"""The Reports page: summary tables (sortable), plots, and a way to open an actor."""

from __future__ import annotations

import ipywidgets as w

from ..reports import PLOTS, build_report
from ..reports.plots import png
from ..reports.tables import CoverageReport
from .common import ErrorBox, Worker, guarded
from .html import table
from .models import SORTABLE, ReportsModel
from .state import AppState

SHOWN = ["actor", "ethnicity", "gender", "age", "synced", "s3_only", "local_only",
         "local_modified", "remote_modified", "conflict", "missing", "coverage", "bytes_local",
         "trained_versions", "validated"]


class ReportsView(w.VBox):
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.model = ReportsModel()
        self.errors = ErrorBox(self.model)
        self.worker = Worker(self.errors)
        self.build_button = w.Button(description="📊 Build report", button_style="primary")
        self.status = w.HTML()
        self.status.add_class("ab-report-status")
        self.sort_by = w.Dropdown(options=SORTABLE, value="coverage", description="Sort by")
        self.ascending = w.Checkbox(value=True, description="ascending", indent=False)
        self.only_images = w.Checkbox(value=True, description="only actors with images",
                                      indent=False)
        self.totals = w.HTML()
        self.totals.add_class("ab-report-totals")
        self.table = w.HTML()
        self.table.add_class("ab-report-table")
        self.open_actor = w.Dropdown(options=[], description="Actor")
        self.open_button = w.Button(description="Open actor")
        self.plots = w.Tab()
        self.plots.add_class("ab-report-plots")
        for name in ("sort_by", "ascending", "only_images"):
            w.link((self.model, name), (getattr(self, name), "value"))
        super().__init__([self.errors, w.HBox([self.build_button, self.status]), self.totals,
                          w.HBox([self.sort_by, self.ascending, self.only_images]),
                          w.HBox([self.open_actor, self.open_button]), self.table, self.plots])
        g = guarded(self.errors)
        self.build_button.on_click(g(lambda _: self.build()))
        self.model.observe(g(lambda _: self.render_table()),
                           ["sort_by", "ascending", "only_images"])
        self.open_button.on_click(g(self._on_open_click))

    @property
    def report(self) -> CoverageReport | None:
        return self.model.report  # type: ignore[no-any-return]

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
            self.model.message = (f"Built in {time.perf_counter() - t0:.1f} s over "
                                  f"{len(report.actors)} actors.")
            self.status.value = self.model.message

        return self.worker.start(job)

    def sorted_actors(self):  # type: ignore[no-untyped-def]
        assert self.report is not None
        df = self.report.actors
        if self.model.only_images:
            df = df[(df["images_s3"] + df["images_local"]) > 0]
        return df.sort_values(self.model.sort_by, ascending=self.model.ascending,
                              na_position="first")

    def render_table(self) -> None:
        if self.report is None:
            return
        t = self.report.totals.iloc[0]
        self.totals.value = (
            f"<b>{t['actors']}</b> actors · <b>{t['actors_with_images']}</b> with images · "
            f"coverage <b>{t['coverage']:.1%}</b> · <b>{t['fully_synced_actors']}</b> fully "
            f"synced · <b>{t['validated_actors']}</b> validated models")
        df = self.sorted_actors()
        self.table.value = table(df[SHOWN], float_format=lambda v: f"{v:.2f}")
        self.open_actor.options = list(df["actor"])

    def render_plots(self) -> None:
        assert self.report is not None
        images = [w.Image(value=png(fn(self.report)), format="png") for fn in PLOTS.values()]
        self.plots.children = images
        self.plots.titles = list(PLOTS)

    def _on_open_click(self, _: object) -> None:
        if self.open_actor.value:
            self.state.actor = self.open_actor.value
            self.state.open_page = "Training Data"
