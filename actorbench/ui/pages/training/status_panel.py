"""Where the Training page's job is: the stage stepper, a line of words and a progress bar;
and, when a job of the actor runs already (maybe another workstation's), who launched it and
when, with "Launch another anyway"."""

from __future__ import annotations

import ipywidgets as w

from actorbench.errors import AlreadyTraining
from actorbench.present.html import esc, h
from actorbench.present.words import job_status_word, short_time
from actorbench.training import JobStatus, Prepared, TrainingVersion
from actorbench.training.status import ACTIVE, RUNNING
from actorbench.ui.pages.training.rows import progress_fraction, stage_html, who_words


class JobStatusPanel(w.VBox):
    def __init__(self) -> None:
        self.already = w.HTML()
        self.already.add_class("ab-already")
        self.another_button = w.Button(description="Launch another anyway",
                                       button_style="warning",
                                       layout=w.Layout(display="none", width="max-content"))
        self.another: Prepared | None = None  # what "Launch another anyway" launches
        self.stage = w.HTML()  # queued -> downloading -> training -> ... -> done
        self.stage.add_class("ab-train-stage")
        self.live = w.HTML()
        self.live.add_class("ab-train-live")
        self.progress = w.FloatProgress(value=0, min=0, max=1, description="Training")
        super().__init__([self.already, self.another_button, self.stage, self.live,
                          self.progress])

    def clear(self) -> None:
        self.stage.value = self.live.value = ""
        self.progress.value = 0
        self.offer_another(None)

    def offer_another(self, prep: Prepared | None, exc: AlreadyTraining | None = None) -> None:
        """Say who runs a job of this actor, and since when, with a button to launch a second
        one anyway; ``None`` takes both away."""
        self.another = prep if exc is not None else None
        self.another_button.layout.display = "" if self.another is not None else "none"
        self.already.value = "" if exc is None else h(
            "div", f"⚠️ {exc.actor} already has training {exc.version} "
            f"({job_status_word(exc.status)}), launched by {who_words(exc.user, exc.machine)} "
            f"on {short_time(exc.at)}. Wait for it, cancel it, or launch another anyway.",
            cls="ab-warn")

    def show_launched(self, v: TrainingVersion) -> None:
        self.live.value = (f"Launched {esc(v.name)}: job {esc(v.job_id)} "
                           f"({esc(job_status_word(v.status))})")
        self.stage.value = stage_html(v)

    def show_versions(self, versions: list[TrainingVersion]) -> None:
        """The newest unfinished job's stage and words; else how the last one ended."""
        active = [v for v in versions if v.status in ACTIVE]
        if versions:
            self.stage.value = stage_html(active[-1] if active else versions[-1])
        live = [v for v in active if v.status in RUNNING]
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
