"""Batch sync of many actors, and the cache panel (storage used, clear verified copies)."""

from __future__ import annotations

import threading

import ipywidgets as w
import pandas as pd

from ..sync.progress import ProgressEvent
from ..sync.summary import transferred_verb
from .background import run_in_background
from .common import ErrorBox, Worker, guarded
from .html import esc, table
from .models import BatchModel, CacheModel
from .state import AppState
from .tiles import human_bytes


class BatchView(w.VBox):
    """Choose actors (with a text filter), pull or push them all, see a summary table."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.model = BatchModel(state)
        self.errors = ErrorBox(self.model)
        self.worker = Worker(self.errors)
        self.cancel_event = threading.Event()
        self.filter = w.Text(placeholder="filter, e.g. female", description="Filter")
        self.actors = w.SelectMultiple(options=self.model.names, rows=10, description="Actors",
                                       layout=w.Layout(width="420px"))
        self.actors.add_class("ab-batch-actors")
        w.link((self.model, "filter"), (self.filter, "value"))
        w.dlink((self.model, "names"), (self.actors, "options"))
        w.link((self.model, "selected"), (self.actors, "value"))
        self.pull_button = w.Button(description="⬇️ Sync selected from S3",
                                    button_style="primary", layout=w.Layout(width="auto"))
        self.push_button = w.Button(description="⬆️ Sync selected to S3", button_style="success",
                                    layout=w.Layout(width="auto"))
        self.cancel_button = w.Button(description="Cancel", disabled=True)
        self.overall = w.IntProgress(value=0, max=1, description="Overall")
        self.overall.add_class("ab-batch-overall")
        self.bars = w.VBox()
        self.summary = w.HTML()
        self.summary.add_class("ab-batch-summary")
        self._bars: dict[str, w.IntProgress] = {}
        self._lock = threading.Lock()
        super().__init__([self.errors, w.HBox([w.VBox([self.filter, self.actors]), w.VBox([
            w.HBox([self.pull_button, self.push_button, self.cancel_button]), self.overall,
            self.bars])]), self.summary])
        g = guarded(self.errors)
        self.pull_button.on_click(g(lambda _: self.start("pull")))
        self.push_button.on_click(g(lambda _: self.start("push")))
        self.cancel_button.on_click(g(lambda _: self.cancel_event.set()))
        self.model.observe(self._on_model_syncing, "syncing")

    def _on_model_syncing(self, change: dict) -> None:  # type: ignore[type-arg]
        busy = bool(change["new"])
        self.pull_button.disabled = self.push_button.disabled = busy
        self.cancel_button.disabled = not busy

    def start(self, direction: str) -> bool:
        names = list(self.model.selected)
        if not names:
            self.errors.show("Select at least one actor.")
            return False
        if self.worker.busy:
            return False
        self.errors.clear()
        self.cancel_event.clear()
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
        out: dict = {}  # type: ignore[type-arg]

        def job() -> None:
            out.update(run(names, progress=self._on_progress, cancel=self.cancel_event))

        def done() -> None:
            self.model.syncing = ""
            self.overall.value = self.overall.max
            done_ = sum(s.transferred for s in out.values())
            self.model.message = (f"{done_} {transferred_verb(direction)}, "
                                  f"{sum(s.failed for s in out.values())} failed "
                                  f"({len(out)} actors).")
            rows = [s.to_json() for s in out.values()]
            if rows:
                df = pd.DataFrame(rows)
                df["conflicts"] = df["conflicts"].map(len)
                df["errors"] = df["errors"].map(len)
                self.summary.value = table(df)
            self.state.changed()

        return self.worker.start(job, done)

    def _on_progress(self, ev: ProgressEvent) -> None:
        with self._lock:
            bar = self._bars.get(ev.actor)
            if ev.kind == "plan" and bar is not None:
                bar.max = max(1, ev.files_total)
                if ev.files_total == 0:
                    bar.value = 1
                self.overall.max = max(1, sum(b.max for b in self._bars.values()))
            elif ev.kind == "file" and bar is not None:
                bar.value = min(bar.max, bar.value + 1)
                self.overall.value = min(self.overall.max, self.overall.value + 1)
            elif ev.kind == "done" and bar is not None:
                bar.value = bar.max
                bar.bar_style = "success" if ev.ok else "danger"


class CacheView(w.VBox):
    """Storage used per actor and in total; clear verified local copies after a confirmation."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.model = CacheModel()
        self.errors = ErrorBox(self.model)
        self.table = w.HTML()
        self.table.add_class("ab-cache-table")
        self.actor = w.Dropdown(options=self.model.options, description="Actor")
        w.dlink((self.model, "options"), (self.actor, "options"))
        w.link((self.model, "actor"), (self.actor, "value"))
        self.clear_button = w.Button(description="🧹 Clear local cache", button_style="warning",
                                     layout=w.Layout(width="auto"))
        self.confirm_button = w.Button(description="Confirm", button_style="danger",
                                       layout=w.Layout(width="auto", display="none"))
        w.dlink((self.model, "pending"), (self.confirm_button.layout, "display"),
                lambda pending: "inline-flex" if pending else "none")
        self.message = w.HTML()
        self.message.add_class("ab-cache-message")
        self.refresh_button = w.Button(description="↻ Refresh")
        super().__init__([self.errors, w.HBox([self.actor, self.clear_button,
                                               self.confirm_button, self.refresh_button]),
                          self.message, self.table])
        g = guarded(self.errors)
        self.clear_button.on_click(g(self._on_clear_click))
        self.confirm_button.on_click(g(self._on_confirm_click))
        self.refresh_button.on_click(g(lambda _: self.refresh()))
        state.observe(g(lambda _: self._sync_actor()), "actor")
        self.refresh()

    def _sync_actor(self) -> None:
        if self.state.actor in self.model.options:
            self.model.actor = self.state.actor

    def refresh(self) -> None:
        """Storage per actor (local disk only: no S3 call)."""
        wb = self.state.wb
        usage = wb.engine.usage([a.name for a in wb.registry])
        used = {n: b for n, b in usage.items() if b}
        self.model.options = sorted(used) or [""]
        self._sync_actor()
        rows = sorted(used.items(), key=lambda kv: -kv[1])
        body = "".join(f"<tr><td>{esc(n)}</td><td>{human_bytes(b)}</td></tr>" for n, b in rows)
        self.table.value = (f'<div class="ab-cache-total">Total local storage: '
                            f"<b>{human_bytes(sum(used.values()))}</b> in {len(used)} actors</div>"
                            f'<table class="ab-table"><tr><th>actor</th><th>local</th></tr>'
                            f"{body}</table>")

    def _on_clear_click(self, _: object) -> None:
        """Ask first: what a clean would delete (it lists S3, off the UI thread)."""
        name = self.model.actor
        if not name:
            return
        self.errors.clear()
        self.message.value = f"Checking what is safe in S3 for {esc(name)} …"

        def ask(dry: dict) -> None:  # type: ignore[type-arg]
            if self.model.actor != name:
                return  # another actor was chosen meanwhile
            self.message.value = (f"Delete <b>{dry['deleted']}</b> local images of {esc(name)} "
                                  f"({human_bytes(dry['bytes_freed'])}), all verified identical "
                                  f"in S3? {dry['kept']} images not safe in S3 are kept.")
            self.model.pending = dry

        run_in_background(self.model, lambda: self.state.wb.engine.clean(
            [name], dry_run=True)[name], on_done=ask)

    def _on_confirm_click(self, _: object) -> None:
        name = self.model.actor
        if not name or not self.model.pending:
            return
        self.model.pending = {}

        def cleaned(res: dict) -> None:  # type: ignore[type-arg]
            self.model.message = (f"Deleted {res['deleted']} images "
                                  f"({human_bytes(res['bytes_freed'])}); kept {res['kept']}.")
            self.message.value = f'<div class="ab-ok">{esc(self.model.message)}</div>'
            self.refresh()
            self.state.changed()

        run_in_background(self.model, lambda: self.state.wb.engine.clean([name])[name],
                          on_done=cleaned)
