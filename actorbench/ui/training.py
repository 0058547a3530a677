"""The Training page: parameters, auto-adjust, estimate, validation, launch, status, versions."""

from __future__ import annotations

import threading

import ipywidgets as w

from ..sync.plan import ActorPlan
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
from ..training.estimate import estimate
from ..training.status import ACTIVE, RUNNING
from ..training.validate import Validation, validate_dataset
from .background import run_in_background
from .common import ErrorBox, Worker, guarded
from .html import esc, h, join
from .state import AppState
from .training_model import TrainingModel
from .training_rows import STATUS_CLASS as STATUS_CLASS  # (tests and other pages read them)
from .training_rows import overview_html, progress_fraction, validation_html, version_row
from .words import job_status_word, short_time


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
        self.cancel_button = w.Button(description="Cancel training", button_style="danger",
                                      disabled=True, tooltip="No training is running.")
        self.save_button = w.Button(description="💾 Save parameters",
                                    layout=w.Layout(width="auto"))
        self.params_message = w.HTML()
        self.params_message.add_class("ab-params-message")
        self.overview = w.HTML()  # image count, sync state: as soon as the actor is chosen
        self.overview.add_class("ab-train-overview")
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
                       self.gpu, w.HBox([self.save_button, self.params_message])])
        side = w.VBox([w.HBox([self.auto_button, self.start_button, self.cancel_button]),
                       self.formula, self.estimate, self.validation, self.live, self.progress],
                      layout=w.Layout(width="60%"))
        super().__init__([self.errors, self.title, self.overview, w.HBox([form, side]), guide,
                          w.HTML("<h4>Trained versions</h4>"), self.versions_table,
                          w.HBox([self.version_pick, self.good_button])])
        g = guarded(self.errors)
        self.auto_button.on_click(g(self._on_auto_click))
        self.start_button.on_click(g(lambda _: self.start()))
        self.cancel_button.on_click(g(self._on_cancel_click))
        self.good_button.on_click(g(self._on_good_click))
        self.save_button.on_click(g(self._on_save_click))
        self._loading = False  # the form is being filled for another actor
        self._blocked = False  # the dataset shown has blockers: Start waits
        self._reads = 0  # dataset reads asked for: only the last one is shown
        self.model.observe(g(self._on_model_resolution), "resolution")
        state.observe(g(lambda _: self.load_actor()), "actor")
        g(self.load_actor)()  # an unreadable record is shown on the page, which still opens

    # -- form <-> params (the model holds the form) ---------------------------------------
    def params(self) -> TrainingParams:
        return self.model.params()

    def show_params(self, p: TrainingParams) -> None:
        self.model.show(p)

    # -- actions -------------------------------------------------------------------------
    def load_actor(self) -> None:
        """Another actor: nothing said about the last one stays; its saved parameters come
        back, and its images, sync state and validation follow from a background read."""
        name = self.model.actor = self.state.actor
        self.title.value = (f'<div class="ab-title">Training · {esc(name)}</div>' if name
                            else "<i>Choose an actor on the Library page.</i>")
        self.formula.value = self.estimate.value = self.validation.value = ""
        self.live.value = self.params_message.value = self.overview.value = ""
        self.progress.value = 0
        self.prepared = None
        self.errors.clear()
        self._blocked = False
        for b in (self.auto_button, self.start_button, self.save_button):
            b.disabled = not name
            b.tooltip = "" if name else "Choose an actor on the Library page first."
        if not name:
            self.versions_table.value = ""
            self.cancel_button.disabled = True
            return
        last = self.service.last_params(name)
        self._loading = True
        try:
            self.show_params(last or TrainingParams.from_preset(
                "sdxl", trigger_word=f"ohwx_{name.split('_')[0]} person"))
        finally:
            self._loading = False
        if last is not None:
            self.params_message.value = h("span", "Saved parameters restored.", cls="ab-hint")
        self.read_dataset(name)
        self.render_versions(self.service.versions.load(self.state.wb.registry.get(name).id))
        self.start_polling()

    def read_dataset(self, name: str) -> None:
        """Image count, sync state, validation and estimate of ``name``: the S3 listing and
        the images are read off the UI thread; Auto-adjust, if clicked meanwhile, wins."""
        self.overview.value = h("i", f"Reading the images of {name} …")
        resolution = self.model.resolution
        self._reads += 1
        read_no = self._reads

        def read() -> tuple[ActorPlan, Validation]:
            plan = self.state.plan(name)
            return plan, validate_dataset(plan, resolution)

        def show(result: tuple[ActorPlan, Validation]) -> None:
            plan, validation = result
            if self.state.actor != name or read_no != self._reads:
                return  # another actor is shown now, or the form changed since
            self.overview.value = overview_html(plan, validation)
            if self.prepared is None:
                self.show_validation(validation)
                self.estimate.value = f"<b>Estimate</b>: {esc(estimate(self.params()).describe())}"

        run_in_background(self.model, read, on_done=show)

    def _on_model_resolution(self, change: object) -> None:
        """Another resolution: the images are judged again (a warning about 1024 px must not
        stay once the form says 512)."""
        if self.model.actor and not self._loading:
            self.prepared = None
            self.read_dataset(self.model.actor)

    def _on_save_click(self, _: object) -> None:
        """Save the form for this actor (beside its images, written atomically): the page
        opens with it next time."""
        actor, params = self.state.actor, self.params()  # a bad field: the error box says
        if not actor:
            return
        self.errors.clear()

        def saved(_: object) -> None:
            if self.state.actor == actor:
                self.params_message.value = h(
                    "span", "✓ Saved: used whenever this actor is opened.", cls="ab-ok-text")

        run_in_background(self.model, lambda: self.service.save_params(actor, params),
                          on_done=saved)

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
        self.show_validation(prep.validation)
        return prep

    def show_validation(self, v: Validation) -> None:
        """The findings; Start waits until there is no blocker (a hover says why)."""
        self.validation.value = validation_html(v)
        self._blocked = bool(v.blockers)
        self.start_button.disabled = self._blocked or self.worker.busy
        self.start_button.tooltip = "Fix the blockers listed first." if self._blocked else ""

    def start(self) -> bool:
        if self.worker.busy:
            return False  # a double click never launches twice
        actor, params = self.state.actor, self.params()
        self.start_button.disabled = True

        def job() -> None:  # both list S3 or call RunPod: off the UI thread
            v = self.service.launch(self.service.prepare(actor, params, adjust=False))
            self.live.value = (f"Launched {esc(v.name)}: job {esc(v.job_id)} "
                               f"({esc(job_status_word(v.status))})")

        def done() -> None:
            self.start_button.disabled = self._blocked
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
            self.live.value = f"{esc(v.name)}: <b>{esc(job_status_word(v.status))}</b> {esc(msg)}"
        elif versions:
            v = versions[-1]
            self.progress.value = 1.0 if v.status == JobStatus.COMPLETED else self.progress.value
            self.live.value = (f'<span class="ab-train-final">{esc(v.name)}: '
                               f"<b>{esc(job_status_word(v.status))}</b> "
                               f"{esc(v.error or '')}</span>")

    def render_versions(self, versions: list[TrainingVersion]) -> None:
        rows = join(version_row(v) for v in reversed(versions))
        self.versions_table.value = (
            '<table class="ab-table"><tr><th>version</th><th>created</th><th>status</th>'
            "<th>parameters</th><th>LoRA</th><th></th></tr>" + rows + "</table>"
            if versions else "<i>No trainings yet.</i>")
        running = any(v.status in RUNNING for v in versions)
        self.cancel_button.disabled = not running  # only a running job can be cancelled
        self.cancel_button.tooltip = "" if running else "No training is running."
        done = [(f"{v.name} ({short_time(v.created_at)})", v.id) for v in reversed(versions)
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
            self.live.value = f"{esc(v.name)}: <b>{esc(job_status_word(v.status))}</b>"

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
