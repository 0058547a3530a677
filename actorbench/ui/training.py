"""The Training page: parameters, auto-adjust, estimate, validation, launch, status, versions."""

from __future__ import annotations

import threading

import ipywidgets as w

from ..palette import JOB_TONE, job_tone
from ..training import (
    GPU_PRICE_PER_S,
    GUIDELINES,
    PRESETS,
    JobStatus,
    Prepared,
    TrainingParams,
    TrainingService,
    TrainingVersion,
)
from ..training.status import ACTIVE, RUNNING
from .background import run_in_background
from .common import ErrorBox, Worker, guarded
from .html import Html, css_class, esc, h, join
from .state import AppState
from .training_model import TrainingModel

#: a job's badge class (the palette's image status of the same meaning), by status
STATUS_CLASS = {status: tone.value for status, tone in JOB_TONE.items()}


def version_row(v: TrainingVersion) -> Html:
    """One row of the versions table: every field shown as text (a record is a file anyone
    may have edited), the status classes picked from ``STATUS_CLASS``, never built from it."""
    params = v.parameters if isinstance(v.parameters, dict) else {}
    status = str(v.status)
    badge = h("span", status, cls=["ab-badge", f"ab-status-{job_tone(status).value}",
                                   css_class("ab-job", status, STATUS_CLASS)])
    error = h("small", v.error, cls="ab-job-error") if v.error else ""
    return h("tr", h("td", v.name), h("td", v.created_at), h("td", badge, " ", error),
             h("td", f"{params.get('base_model')} · {params.get('max_train_steps')} steps"),
             h("td", h("code", v.lora_url or "")), h("td", "✅ good" if v.isGood else ""))


def progress_fraction(progress: object) -> float:
    """The 0..1 progress a record holds, or 0 when it holds something else."""
    value = progress.get("progress") if isinstance(progress, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    return 0.0


class TrainingView(w.VBox):
    def __init__(self, state: AppState, service: TrainingService | None = None) -> None:
        self.state = state
        self.service = service or TrainingService(state.wb)
        self.prepared: Prepared | None = None
        self.model = TrainingModel()
        self.errors = ErrorBox(self.model)
        self.worker = Worker(self.errors)
        self.poller = Worker(self.errors, busy=False)  # follows jobs for up to an hour
        self._stop_polling = threading.Event()
        self.title = w.HTML()
        m = self.model
        self.base_model = w.Dropdown(options=[(p.label, k) for k, p in PRESETS.items()],
                                     value=m.base_model, description="Base model")
        self.trigger = w.Text(value=m.trigger, description="Trigger")
        self.resolution = w.IntText(value=m.resolution, description="Resolution")
        self.unet_lr = w.FloatText(value=m.unet_lr, description="U-Net LR")
        self.te_lr = w.FloatText(value=m.te_lr, description="Text enc. LR")
        self.rank = w.IntText(value=m.rank, description="Rank")
        self.alpha = w.IntText(value=m.alpha, description="Alpha")
        self.batch = w.IntText(value=m.batch, description="Batch")
        self.repeats = w.IntText(value=m.repeats, description="Repeats")
        self.epochs = w.IntText(value=m.epochs, description="Epochs")
        self.steps = w.IntText(value=m.steps, description="Steps")
        self.gpu = w.Dropdown(options=list(GPU_PRICE_PER_S), value=m.gpu, description="GPU")
        for name in ("base_model", "trigger", "resolution", "unet_lr", "te_lr", "rank", "alpha",
                     "batch", "repeats", "epochs", "steps", "gpu"):
            w.link((m, name), (getattr(self, name), "value"))
        self.auto_button = w.Button(description="Auto-adjust", button_style="info")
        self.start_button = w.Button(description="🚀 Start training", button_style="success")
        self.cancel_button = w.Button(description="Cancel training", button_style="danger")
        self.formula = w.HTML()
        self.formula.add_class("ab-formula")
        self.estimate = w.HTML()
        self.estimate.add_class("ab-estimate")
        self.validation = w.HTML()
        self.validation.add_class("ab-validation")
        self.live = w.HTML()
        self.live.add_class("ab-train-live")
        self.progress = w.FloatProgress(value=0, min=0, max=1, description="Training")
        self.versions_table = w.HTML()
        self.versions_table.add_class("ab-versions")
        self.version_pick = w.Dropdown(options=[], description="Version")
        self.good_button = w.Button(description="✅ Mark as good")
        guide = w.Accordion(children=[w.HTML(
            "<ul>" + "".join(f"<li><b>{esc(t)}</b>: {esc(d)}</li>" for t, d in GUIDELINES)
            + "</ul>")], titles=["Face-training guidelines"])
        form = w.VBox([self.base_model, self.trigger, self.resolution, self.unet_lr, self.te_lr,
                       self.rank, self.alpha, self.batch, self.repeats, self.epochs, self.steps,
                       self.gpu])
        side = w.VBox([w.HBox([self.auto_button, self.start_button, self.cancel_button]),
                       self.formula, self.estimate, self.validation, self.live, self.progress],
                      layout=w.Layout(width="60%"))
        super().__init__([self.errors, self.title, w.HBox([form, side]), guide,
                          w.HTML("<h4>Trained versions</h4>"), self.versions_table,
                          w.HBox([self.version_pick, self.good_button])])
        g = guarded(self.errors)
        self.auto_button.on_click(g(self._on_auto_click))
        self.start_button.on_click(g(lambda _: self.start()))
        self.cancel_button.on_click(g(self._on_cancel_click))
        self.good_button.on_click(g(self._on_good_click))
        state.observe(g(lambda _: self.load_actor()), "actor")
        g(self.load_actor)()  # an unreadable record is shown on the page, which still opens

    # -- form <-> params (the model holds the form) ---------------------------------------
    def params(self) -> TrainingParams:
        return self.model.params()

    def show_params(self, p: TrainingParams) -> None:
        self.model.show(p)

    # -- actions -------------------------------------------------------------------------
    def load_actor(self) -> None:
        name = self.model.actor = self.state.actor
        self.title.value = (f'<div class="ab-title">Training · {esc(name)}</div>' if name
                            else "<i>Choose an actor on the Library page.</i>")
        if not name:
            return
        last = self.service.last_params(name)
        self.show_params(last or TrainingParams.from_preset(
            "sdxl", trigger_word=f"ohwx_{name.split('_')[0]} person"))
        self.formula.value = self.estimate.value = self.validation.value = ""
        self.prepared = None
        self.render_versions(self.service.versions.load(self.state.wb.registry.get(name).id))
        self.start_polling()

    def _on_auto_click(self, _: object) -> None:
        """Auto-adjust lists the actor's images in S3: off the UI thread."""
        actor, params = self.state.actor, self.params()
        self.errors.clear()

        def show(prep: Prepared) -> None:
            if self.state.actor == actor:  # not for an actor chosen meanwhile
                self.show_prepared(prep)

        run_in_background(self.model, lambda: self.service.prepare(actor, params), on_done=show)

    def auto_adjust(self) -> Prepared:
        """Auto-adjust, blocking (the button runs it off the UI thread)."""
        return self.show_prepared(self.service.prepare(self.state.actor, self.params()))

    def show_prepared(self, prep: Prepared) -> Prepared:
        self.prepared = prep
        self.show_params(prep.params)
        self.formula.value = f"<code>{esc(prep.formula)}</code>" if prep.formula else ""
        self.estimate.value = f"<b>Estimate</b>: {esc(prep.estimate.describe())}"
        items = [h("li", "⛔ " if f.level == "blocker" else "⚠️ ", f.message,
                   cls=css_class("ab", f.level, ("blocker", "warning")))
                 for f in prep.validation.findings]
        ok = ('<div class="ab-ok">Dataset OK: '
              f"{prep.validation.images} images in S3.</div>" if prep.validation.ok else "")
        self.validation.value = ok + (f"<ul>{''.join(items)}</ul>" if items else "")
        return prep

    def start(self) -> bool:
        if self.worker.busy:
            return False  # a double click never launches twice
        actor, params = self.state.actor, self.params()
        self.start_button.disabled = True

        def job() -> None:  # both list S3 or call RunPod: off the UI thread
            v = self.service.launch(self.service.prepare(actor, params, adjust=False))
            self.live.value = f"Launched {esc(v.name)}: job {esc(v.job_id)} ({esc(v.status)})"

        def done() -> None:
            self.start_button.disabled = False
            self.render_versions(self.service.versions.load(
                self.state.wb.registry.get(self.state.actor).id))
            self.start_polling()

        return self.worker.start(job, done)

    def start_polling(self) -> None:
        """Follow unfinished jobs off the UI thread; resumes whenever the page is opened."""
        if self.poller.busy or not self.state.actor:
            return
        actor = self.state.actor
        versions = self.service.versions.load(self.state.wb.registry.get(actor).id)
        if not any(v.status in ACTIVE for v in versions):
            return
        self._stop_polling.clear()

        def job() -> None:
            self.service.poll_until_done(actor, timeout=3600, interval=0.5,
                                         on_update=self._on_versions_update)

        self.poller.start(job)

    def _on_versions_update(self, versions: list[TrainingVersion]) -> None:
        self.render_versions(versions)
        live = [v for v in versions if v.status in RUNNING]
        if live:
            v = live[-1]
            self.progress.value = progress_fraction(v.progress)
            msg = v.progress.get("message", "") if isinstance(v.progress, dict) else ""
            self.live.value = f"{esc(v.name)}: <b>{esc(v.status)}</b> {esc(msg)}"
        elif versions:
            v = versions[-1]
            self.progress.value = 1.0 if v.status == JobStatus.COMPLETED else self.progress.value
            self.live.value = (f'<span class="ab-train-final">{esc(v.name)}: '
                               f"<b>{esc(v.status)}</b> {esc(v.error or '')}</span>")

    def render_versions(self, versions: list[TrainingVersion]) -> None:
        rows = join(version_row(v) for v in reversed(versions))
        self.versions_table.value = (
            '<table class="ab-table"><tr><th>version</th><th>created</th><th>status</th>'
            "<th>parameters</th><th>LoRA</th><th></th></tr>" + rows + "</table>"
            if versions else "<i>No trainings yet.</i>")
        done = [(f"{v.name} ({v.status})", v.id) for v in reversed(versions)
                if v.status == JobStatus.COMPLETED]
        current = self.version_pick.value
        self.version_pick.options = done
        ids = [d[1] for d in done]
        if ids:
            self.version_pick.value = current if current in ids else ids[0]

    def _on_cancel_click(self, _: object) -> None:
        actor = self.state.actor
        versions = self.service.versions.load(self.state.wb.registry.get(actor).id)
        active = [v for v in versions if v.status in RUNNING]
        if not active:
            self.errors.show("No training is running.")
            return

        def cancelled(v: TrainingVersion) -> None:
            self.live.value = f"{esc(v.name)}: <b>{esc(v.status)}</b>"

        run_in_background(self.model, lambda: self.service.cancel(actor, active[-1].id),
                          on_done=cancelled)  # a RunPod call: off the UI thread

    def _on_good_click(self, _: object) -> None:
        if not self.version_pick.value:
            self.errors.show("Choose a completed version first.")
            return
        v = self.service.mark_good(self.state.actor, self.version_pick.value)
        self.render_versions(self.service.versions.load(
            self.state.wb.registry.get(self.state.actor).id))
        self.live.value = f'<div class="ab-ok">{esc(v.name)} is now the validated model.</div>'
        self.state.wb.reload_registry()
        self.state.changed()
