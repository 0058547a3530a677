"""The Cache page: what the local copies take, and freeing the space of what is safely in S3."""

from __future__ import annotations

import ipywidgets as w

from actorbench.present.html import esc
from actorbench.present.words import human_bytes, plural
from actorbench.ui.mvc import run_in_background
from actorbench.ui.pages.cache.model import CacheModel
from actorbench.ui.state import AppState
from actorbench.ui.widgets.common import ErrorBox, guarded


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
                            f"<b>{human_bytes(sum(used.values()))}</b> in "
                            f"{plural(len(used), 'actor')}</div>"
                            '<table class="ab-table"><tr><th>Actor</th><th>On disk</th></tr>'
                            f"{body}</table>")

    def _on_clear_click(self, _: object) -> None:
        """Ask first: what a clean would delete (it lists S3, off the UI thread)."""
        name = self.model.actor
        if not name:
            return
        self.errors.clear()
        self.message.value = f"Checking what is safe in S3 for {esc(name)} …"

        def ask(dry: dict) -> None:
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

        def cleaned(res: dict) -> None:
            self.model.message = (f"Deleted {res['deleted']} images "
                                  f"({human_bytes(res['bytes_freed'])}); kept {res['kept']}.")
            self.message.value = f'<div class="ab-ok">{esc(self.model.message)}</div>'
            self.refresh()
            self.state.changed()

        run_in_background(self.model, lambda: self.state.wb.engine.clean([name])[name],
                          on_done=cleaned)
