"""The dashboard: one App with a tab per page; errors at start-up are shown, not raised."""

from __future__ import annotations

import ipywidgets as w

from ..errors import ActorbenchError
from ..settings import Settings
from ..workbench import Workbench
from .batch import BatchView, CacheView
from .common import CSS, describe, error_html
from .library import LibraryView
from .state import AppState
from .training_data import TrainingDataView

PAGES = ("Library", "Training Data", "Batch sync", "Cache", "Training", "Reports")


class App(w.VBox):
    """``App.from_settings()`` is all a notebook needs."""

    def __init__(self, wb: Workbench) -> None:
        self.state = AppState(wb)
        self.library = LibraryView(self.state)
        self.training_data = TrainingDataView(self.state)
        self.batch = BatchView(self.state)
        self.cache = CacheView(self.state)
        pages: list[tuple[str, w.Widget]] = [("Library", self.library),
                                             ("Training Data", self.training_data),
                                             ("Batch sync", self.batch), ("Cache", self.cache)]
        for title, factory in self._optional_pages():
            pages.append((title, factory(self.state)))
        self.tabs = w.Tab(children=[p for _, p in pages], titles=[t for t, _ in pages])
        self.tabs.add_class("ab-tabs")
        title = w.HTML(f'{CSS}<div class="ab-title">actorbench</div>')
        super().__init__([title, self.tabs])
        self.add_class("ab-app")
        self.state.observe(self._on_state_open_page, "open_page")

    def _on_state_open_page(self, change: dict) -> None:  # type: ignore[type-arg]
        if change["new"] in self.tabs.titles:
            self.tabs.selected_index = list(self.tabs.titles).index(change["new"])
        self.state.open_page = ""

    @staticmethod
    def _optional_pages() -> list[tuple[str, type]]:
        out: list[tuple[str, type]] = []
        try:
            from .training import TrainingView
            out.append(("Training", TrainingView))
        except ImportError:
            pass
        try:
            from .reports import ReportsView
            out.append(("Reports", ReportsView))
        except ImportError:
            pass
        return out

    def page(self, title: str) -> w.Widget:
        return self.tabs.children[list(self.tabs.titles).index(title)]

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> w.Widget:
        """Build the app; a configuration problem becomes a clear message on the page."""
        try:
            wb = Workbench(settings or Settings.from_env())
            wb.registry  # noqa: B018 - load now, so a malformed file is reported here
            wb.store  # noqa: B018 - and missing credentials too
            return cls(wb)
        except ActorbenchError as exc:
            return w.HTML(CSS + error_html(describe(exc)))
