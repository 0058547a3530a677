"""The Batch sync page: many actors, pulled or pushed at once, with one bar each."""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as w

from actorbench.present.html import Html, esc, h, table
from actorbench.present.progress import TransferMeter
from actorbench.present.words import facet_word, library_status_word, plural
from actorbench.sync.progress import ProgressEvent, ProgressKind
from actorbench.sync.summary import SyncSummary, transferred_verb
from actorbench.ui.pages.batch.model import ANY, BatchModel
from actorbench.ui.state import AppState
from actorbench.ui.widgets.common import ErrorBox, Worker, guarded


class BatchView(w.VBox):
    """Choose actors (text and the Library's facet filters; picks survive filter changes),
    pull or push them all, see a summary table."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.model = BatchModel(state)
        self.errors = ErrorBox(self.model)
        self.worker = Worker(self.errors)
        self.cancel_event = threading.Event()
        self.meter = TransferMeter()
        reg = state.wb.registry
        facets = reg.facet_values()
        bands = sorted({a.facets.age_band for a in reg})
        self.filter = w.Text(placeholder="name or id, e.g. female", description="Filter")
        # facets in words, as the Library shows them (the value stays the code)
        self.ethnicity = w.Dropdown(options=[(ANY, ANY), *((facet_word(e), e)
                                                           for e in facets["ethnicity"])],
                                    description="Ethnicity")
        self.gender = w.Dropdown(options=[(ANY, ANY), *((facet_word(g), g)
                                                        for g in facets["gender"])],
                                 description="Gender")
        self.age_band = w.Dropdown(options=[ANY, *bands], description="Age")
        self.status = w.Dropdown(options=[(ANY, ANY)] + [(library_status_word(s), s)
                                                         for s in facets["status"]],
                                 description="Status")
        for name in ("filter", "ethnicity", "gender", "age_band", "status"):
            w.link((self.model, name), (getattr(self, name), "value"))
        self.actors = w.SelectMultiple(options=self.model.names, rows=10, description="Actors",
                                       layout=w.Layout(width="420px"))
        self.actors.add_class("ab-batch-actors")
        self.picks = w.HTML()
        self.picks.add_class("ab-batch-picks")
        self.clear_picks = w.Button(description="Clear picks", layout=w.Layout(width="auto"))
        self._showing = False  # the list is being set from the model: not a choice
        self.pull_button = w.Button(description="⬇️ Sync selected from S3",
                                    button_style="primary", layout=w.Layout(width="auto"))
        self.push_button = w.Button(description="⬆️ Sync selected to S3", button_style="success",
                                    layout=w.Layout(width="auto"))
        self.cancel_button = w.Button(description="Cancel", disabled=True)
        self.overall = w.IntProgress(value=0, max=1, description="Overall")
        self.overall.add_class("ab-batch-overall")
        self.overall_label = w.HTML()
        self.overall_label.add_class("ab-progress-label")
        self.bars = w.VBox()
        self.summary = w.HTML()
        self.summary.add_class("ab-batch-summary")
        self._bars: dict[str, w.IntProgress] = {}
        self._lock = threading.Lock()
        filters = w.VBox([self.filter, self.ethnicity, self.gender, self.age_band, self.status])
        chooser = w.VBox([self.actors, w.HBox([self.clear_picks]), self.picks],
                         layout=w.Layout(width="440px"))
        actions = w.VBox([w.HBox([self.pull_button, self.push_button, self.cancel_button]),
                          w.HBox([self.overall, self.overall_label]), self.bars])
        super().__init__([self.errors, w.HBox([filters, chooser, actions]), self.summary])
        g = guarded(self.errors)
        self.pull_button.on_click(g(lambda _: self.start("pull")))
        self.push_button.on_click(g(lambda _: self.start("push")))
        self.cancel_button.on_click(g(lambda _: self.cancel_event.set()))
        self.clear_picks.on_click(g(lambda _: setattr(self.model, "selected", ())))
        self.actors.observe(g(self._on_actors_value), "value")
        self.model.observe(g(self._on_model_picks), ["names", "selected"])
        self.model.observe(self._on_model_syncing, "syncing")
        self._on_model_picks(None)

    def _on_model_picks(self, change: object) -> None:
        """The list shows the actors the filters let through, the picks among them chosen."""
        self._showing = True
        try:
            if tuple(self.actors.options) != tuple(self.model.names):
                self.actors.options = self.model.names
            if tuple(self.actors.value) != self.model.shown:
                self.actors.value = self.model.shown
        finally:
            self._showing = False
        self.picks.value = h("div", self.model.picks_text(), cls="ab-picks")

    def _on_actors_value(self, change: dict[str, Any]) -> None:
        if not self._showing:
            self.model.choose_shown(tuple(change["new"]))

    def _on_model_syncing(self, change: dict[str, Any]) -> None:
        busy = bool(change["new"])
        self.pull_button.disabled = self.push_button.disabled = busy
        self.cancel_button.disabled = not busy

    def start(self, direction: str) -> bool:
        names = list(self.model.selected)
        if not names:
            self.errors.show("Pick at least one actor.")
            return False
        if self.worker.busy:
            return False
        self.errors.clear()
        self.model.message = ""
        self.cancel_event.clear()
        self.meter.reset()
        self.overall_label.value = ""
        self._bars = {}
        for n in names:
            bar = w.IntProgress(value=0, max=1, description=n[:18],
                                style={"description_width": "150px"})
            bar.add_class("ab-batch-bar")
            self._bars[n] = bar
        self.bars.children = list(self._bars.values())
        self.overall.value, self.overall.max = 0, 1
        self.summary.value = ""
        self.model.syncing = direction
        engine = self.state.wb.engine
        run = engine.pull if direction == "pull" else engine.push
        out: dict[str, SyncSummary] = {}

        def job() -> None:
            out.update(run(names, progress=self._on_progress, cancel=self.cancel_event))

        def done() -> None:
            self.model.syncing = ""
            self.overall.value = self.overall.max
            self.overall_label.value = esc(self.meter.label())
            self.model.message = batch_message(direction, list(out.values()))
            self.summary.value = (h("div", self.model.message, cls="ab-batch-message")
                                  + (summary_table(direction, list(out.values())) if out
                                     else ""))
            self.state.changed()

        return self.worker.start(job, done)

    def _on_progress(self, ev: ProgressEvent) -> None:
        self.meter.update(ev)
        with self._lock:
            bar = self._bars.get(ev.actor)
            if ev.kind == ProgressKind.PLAN and bar is not None:
                bar.max = max(1, ev.files_total)
                if ev.files_total == 0:
                    bar.value = 1
                self.overall.max = max(1, sum(b.max for b in self._bars.values()))
            elif ev.kind == ProgressKind.FILE and bar is not None:
                bar.value = min(bar.max, bar.value + 1)
                self.overall.value = min(self.overall.max, self.overall.value + 1)
            elif ev.kind == ProgressKind.DONE and bar is not None:
                bar.value = bar.max
                bar.bar_style = "success" if ev.ok else "danger"
            # (bytes arrive by the hundred: the next file shows them)
            if ev.kind != ProgressKind.BYTES:
                self.overall_label.value = esc(self.meter.label())


def batch_message(direction: str, summaries: list[SyncSummary]) -> str:
    """``"30 downloaded, 1 failed (3 actors)."``"""
    moved = sum(s.transferred for s in summaries)
    failed = sum(s.failed for s in summaries)
    cancelled = "Cancelled: " if any(s.cancelled for s in summaries) else ""
    return (f"{cancelled}{moved} {transferred_verb(direction)}, {failed} failed "
            f"({plural(len(summaries), 'actor')}).")


def summary_table(direction: str, summaries: list[SyncSummary]) -> Html:
    """One row per actor, in words: what moved, what was already in place, what went wrong."""
    import pandas as pd  # here, not at the top: the page's kernel starts without pandas

    df = pd.DataFrame([{
        "Actor": s.actor, transferred_verb(direction).capitalize(): s.transferred,
        "Already in place": s.skipped, "Failed": s.failed, "Conflicts": len(s.conflicts),
        "Refused (invalid)": len(s.invalid), "Images": s.total,
        "Result": "Cancelled" if s.cancelled else ("Done" if s.ok else "Needs attention"),
    } for s in summaries])
    return table(df)
