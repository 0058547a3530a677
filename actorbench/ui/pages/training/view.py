"""The Training page: parameters, auto-adjust, estimate, validation, launch, status, versions.

Longer than 300 lines: each part of the page is its own module (form, jobs, rows, status_panel,
versions_panel, face_confirm); what is left here is their wiring to one actor and one model.
"""

from __future__ import annotations

import ipywidgets as w

from actorbench.errors import AlreadyTraining
from actorbench.present.html import esc, h
from actorbench.present.words import job_status_word
from actorbench.sync.plan import ActorPlan
from actorbench.team.documents import LEDGERS, REGISTRY_DOC
from actorbench.training import Prepared, TrainingParams, TrainingService, TrainingVersion
from actorbench.training.estimates import estimate
from actorbench.training.status import RUNNING
from actorbench.training.validate import Validation, validate_dataset
from actorbench.ui.mvc import run_in_background
from actorbench.ui.pages.training.face_confirm import FaceConfirm
from actorbench.ui.pages.training.form import ParamsForm, guidelines
from actorbench.ui.pages.training.jobs import JobFollower
from actorbench.ui.pages.training.model import FIELDS, TrainingModel
from actorbench.ui.pages.training.rows import overview_html, validation_html
from actorbench.ui.pages.training.status_panel import JobStatusPanel
from actorbench.ui.pages.training.versions_panel import VersionsPanel
from actorbench.ui.state import AppState
from actorbench.ui.team_follow import follow_team
from actorbench.ui.widgets.common import ErrorBox, Worker, classed, guarded


class TrainingView(w.VBox):
    def __init__(self, state: AppState, service: TrainingService | None = None) -> None:
        self.state = state
        self.service = service or TrainingService(state.wb)
        self.prepared: Prepared | None = None
        self.model = TrainingModel()
        self.errors = ErrorBox(self.model)
        self.worker = Worker(self.errors)
        self.follower = JobFollower(state, lambda: self.service, self.errors,
                                    lambda versions: self._on_versions_update(versions))
        self.poller = self.follower.poller  # follows jobs for up to an hour
        self.title = w.HTML()
        self.auto_button = w.Button(description="Auto-adjust", button_style="info")
        self.start_button = w.Button(description="🚀 Start training", button_style="success")
        self.cancel_button = w.Button(description="Cancel training", button_style="danger",
                                      disabled=True, tooltip="No training is running.")
        self.save_button = w.Button(description="💾 Save parameters",
                                    layout=w.Layout(width="auto"))
        self.params_message = classed(w.HTML(), "ab-params-message")
        self.overview = w.HTML()  # image count, sync state: as soon as the actor is chosen
        self.overview.add_class("ab-train-overview")
        self.formula = classed(w.HTML(), "ab-formula")
        self.estimate = classed(w.HTML(), "ab-estimate")
        self.validation = classed(w.HTML(), "ab-validation")
        self.status = JobStatusPanel()  # the job's stage, words, progress; "launch another"
        self.live, self.stage, self.progress = (self.status.live, self.status.stage,
                                                self.status.progress)
        form = ParamsForm(self.model, [self.save_button, self.params_message])
        for name in FIELDS:  # (tests and handlers reach the fields by name)
            setattr(self, name, getattr(form, name))
        self.panel = VersionsPanel(state, self.model, self.errors, lambda: self.service,
                                   self._on_marked)
        self.versions_table, self.version_pick = self.panel.table, self.panel.pick
        self.good_button = self.panel.good_button
        self.face_confirm = FaceConfirm(state, self.read_dataset)
        side = w.VBox([w.HBox([self.auto_button, self.start_button, self.cancel_button]),
                       self.formula, self.estimate, self.validation, self.face_confirm,
                       self.status],
                      layout=w.Layout(width="60%"))
        super().__init__([self.errors, self.title, self.overview,
                          w.HBox([form, side]), guidelines(), self.panel])
        g = guarded(self.errors)
        self.auto_button.on_click(g(self._on_auto_click))
        self.start_button.on_click(g(lambda _: self.start()))
        self.face_confirm.on_click(g(self.face_confirm.confirm_shown))
        self.status.another_button.on_click(g(lambda _: self.start(another=True)))
        self.cancel_button.on_click(g(self._on_cancel_click))
        self.save_button.on_click(g(self._on_save_click))
        # team mode: another workstation's launch, progress or mark shows here without a reload
        follow_team(state, self._on_team_news, self.errors.show)
        self.model.observe(g(self._on_model_team_changes), "team_changes")
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
        self.params_message.value = self.overview.value = ""
        self.status.clear()
        self.prepared = None
        self.errors.clear()
        self._blocked = False
        for b in (self.auto_button, self.start_button, self.save_button):
            b.disabled = not name
            b.tooltip = "" if name else "Choose an actor on the Library page first."
        if not name:
            self.panel.show([], "")
            self.cancel_button.disabled = True
            return
        self.panel.show([], "")  # the last actor's versions go; this one's follow

        def read() -> tuple[TrainingParams | None, list[TrainingVersion]]:
            # in team mode both are S3 reads (the shared parameters and ledger): never on
            # the UI thread, which would freeze the page for as long as S3 takes
            return (self.service.last_params(name),
                    self.service.versions.load(self.state.wb.registry.get(name).id))

        def show(result: tuple[TrainingParams | None, list[TrainingVersion]]) -> None:
            if self.state.actor != name:
                return  # another actor was chosen meanwhile: its own read shows it
            last, versions = result
            if last is not None:
                self._loading = True
                try:
                    self.show_params(last)
                finally:
                    self._loading = False
                self.params_message.value = h("span", "Saved parameters restored.",
                                              cls="ab-hint")
            self.read_dataset(name)  # judged at the resolution the form now holds
            self.render_versions(versions)
            self.status.show_versions(versions)
            self.start_polling()

        self._loading = True
        try:  # the preset until the saved parameters are read
            self.show_params(TrainingParams.from_preset(
                "sdxl", trigger_word=self.state.wb.registry.get(name).trigger_word))
        finally:
            self._loading = False
        run_in_background(self.model, read, on_done=show)

    def read_dataset(self, name: str) -> None:
        """Image count, sync state, validation and estimate of ``name``: the S3 listing and
        the images are read off the UI thread; Auto-adjust, if clicked meanwhile, wins."""
        self.overview.value = h("i", f"Reading the images of {name} …")
        resolution = self.model.resolution
        self._reads += 1
        read_no = self._reads

        def read() -> tuple[ActorPlan, Validation]:
            from actorbench.training.likeness import face_validation

            plan = self.state.plan(name)
            validation = validate_dataset(plan, resolution)
            validation.findings += face_validation(self.state.wb.layout, name, resolution)
            return plan, validation

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
        self.face_confirm.show_for(v)
        self._blocked = bool(v.blockers)
        self.start_button.disabled = self._blocked or self.worker.busy
        self.start_button.tooltip = "Fix the blockers listed first." if self._blocked else ""

    def start(self, another: bool = False) -> bool:
        """Launch (off the UI thread). A job of the actor queued or running (maybe another
        workstation's) is named, and "Launch another anyway" offered; ``another`` confirms."""
        if self.worker.busy:
            return False  # a double click never launches twice
        actor, params, confirmed = self.state.actor, self.params(), self.status.another
        self.start_button.disabled = True
        self.status.offer_another(None)

        def job() -> None:  # both list S3 or call RunPod: off the UI thread
            prep = (confirmed if another and confirmed is not None
                    else self.service.prepare(actor, params, adjust=False))
            try:
                v = self.service.launch(prep, another=another)
            except AlreadyTraining as exc:  # said with who and when, and a confirm button
                self.status.offer_another(prep, exc)
                return
            self.status.show_launched(v)

        def done() -> None:
            self.start_button.disabled = self._blocked
            self.render_versions(self.service.versions.load(
                self.state.wb.registry.get(self.state.actor).id))
            self.start_polling()

        return self.worker.start(job, done)

    def start_polling(self) -> None:
        """Follow the chosen actor's unfinished jobs off the UI thread (``jobs.JobFollower``)."""
        self.follower.start()

    def _on_versions_update(self, versions: list[TrainingVersion]) -> None:
        self.render_versions(versions)
        self.status.show_versions(versions)

    def render_versions(self, versions: list[TrainingVersion]) -> None:
        self.panel.show(versions, self.state.actor)
        running = any(v.status in RUNNING for v in versions)
        self.cancel_button.disabled = not running  # only a running job can be cancelled
        self.cancel_button.tooltip = "" if running else "No training is running."

    # -- team mode -----------------------------------------------------------------------
    def _on_team_news(self, names: set[str]) -> None:
        """A shared document changed (the watch's thread): the versions are read again."""
        if any(n.startswith(LEDGERS) or n == REGISTRY_DOC for n in names):
            self.model.team_changes += 1

    def _on_model_team_changes(self, change: object) -> None:
        actor = self.state.actor
        if not actor:
            return

        def show(versions: list[TrainingVersion]) -> None:
            if self.state.actor == actor:
                self._on_versions_update(versions)
                self.start_polling()  # another workstation's launch: follow it here too

        run_in_background(self.model, lambda: self.service.versions.load(
            self.state.wb.registry.get(actor).id), on_done=show)

    def _on_cancel_click(self, _: object) -> None:
        actor = self.state.actor

        def cancel() -> TrainingVersion | None:  # the ledger (S3 in team mode), RunPod
            versions = self.service.versions.load(self.state.wb.registry.get(actor).id)
            active = [v for v in versions if v.status in RUNNING]
            return self.service.cancel(actor, active[-1].id) if active else None

        def cancelled(v: TrainingVersion | None) -> None:
            if v is None:
                self.errors.show("No training is running.")
            else:
                self.live.value = f"{esc(v.name)}: <b>{esc(job_status_word(v.status))}</b>"

        run_in_background(self.model, cancel, on_done=cancelled)

    def _on_marked(self, v: TrainingVersion) -> None:
        self.live.value = f'<div class="ab-ok">{esc(v.name)} is now the validated model.</div>'
        self.state.changed()
