"""The Connection page: `actorbench doctor` behind a button, its rows as a table."""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import traitlets as t

from actorbench.diagnostics import (
    FAIL,
    STATUSES,
    WARN,
    Check,
    exit_code,
    run_doctor,
    setting_origins,
)
from actorbench.present.html import css_class, h
from actorbench.settings import Settings
from actorbench.ui.state import AppState
from actorbench.ui.widgets.common import ErrorBox, Worker, guarded


class ConnectionModel(t.HasTraits):
    """The doctor's rows for one ``Settings``; ``check()`` runs it (blocking: call it off
    the UI thread)."""

    checks = t.List(t.Instance(Check))
    running = t.Bool(False)
    write = t.Bool(False)  # also put (and remove) a scratch object under the prefix

    def __init__(self, settings: Settings, origins: Any = None) -> None:
        super().__init__()
        self.settings = settings
        self.origins = origins

    def check(self) -> None:
        self.running = True
        try:
            origins = self.origins if self.origins is not None else setting_origins()
            self.checks = run_doctor(self.settings, origins, write=self.write)
        finally:
            self.running = False

    @property
    def exit_code(self) -> int:
        return exit_code(self.checks)

    def reset(self) -> None:
        self.checks = []
        self.write = False


class ConnectionView(w.VBox):
    def __init__(self, state: AppState, origins: Any = None) -> None:
        self.state = state
        self.model = ConnectionModel(state.wb.settings, origins)
        self.errors = ErrorBox()
        self.worker = Worker(self.errors)
        self.check_button = w.Button(description="Check connection", button_style="primary")
        self.write_box = w.Checkbox(description="also try a write (a scratch object, removed "
                                    "again)", indent=False)
        self.status = w.HTML()
        self.status.add_class("ab-connection-status")
        self.table = w.HTML()
        self.table.add_class("ab-connection-table")
        super().__init__([self.errors, w.HBox([self.check_button, self.write_box]),
                          self.status, self.table])
        w.link((self.write_box, "value"), (self.model, "write"))
        self.check_button.on_click(guarded(self.errors)(self._on_check_button_click))
        self.model.observe(self._on_model_checks, "checks")

    def _on_check_button_click(self, _: object) -> None:
        self.errors.clear()
        self.check_button.disabled = True
        self.status.value = "Checking …"

        def done() -> None:
            self.check_button.disabled = False

        if not self.worker.start(self.model.check, done=done):
            self.check_button.disabled = False

    def _on_model_checks(self, change: dict) -> None:
        self.render(change["new"])

    def render(self, checks: list[Check]) -> None:
        failed = sum(c.status == FAIL for c in checks)
        warned = sum(c.status == WARN for c in checks)
        self.status.value = h("div", f"{failed} failed, {warned} warnings, "
                              f"{len(checks) - failed - warned} ok",
                              cls="ab-error" if failed else "ab-ok") if checks else ""
        rows = [h("tr", h("th", "Check"), h("th", "Status"), h("th", "Detail"))]
        for c in checks:
            fix = [h("div", "fix: ", c.fix, cls="ab-check-fix")] if c.fix and c.status != \
                "ok" else []
            rows.append(h("tr", h("td", c.name),
                          h("td", h("span", c.status,
                                    cls=["ab-badge", css_class("ab-check", c.status,
                                                               STATUSES)])),
                          h("td", c.detail, *fix)))
        self.table.value = h("table", *rows, cls="ab-table") if checks else ""
