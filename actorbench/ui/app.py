"""The dashboard: one App with a tab per page; errors at start-up are shown, not raised."""

from __future__ import annotations

from collections.abc import Callable

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
    """``App.from_settings()`` is all a notebook needs.

    The Library and Training Data pages are built with the app; the others are built the
    first time their tab is opened (or asked for), so the page a visitor opens carries fewer
    widgets to render.
    """

    def __init__(self, wb: Workbench) -> None:
        self.state = AppState(wb)
        self.library = LibraryView(self.state)
        self.training_data = TrainingDataView(self.state)
        factories: list[tuple[str, Callable[[AppState], w.Widget]]] = [
            ("Batch sync", BatchView), ("Cache", CacheView), *self._optional_pages()]
        self._factories = dict(factories)
        self._built: dict[str, w.Widget] = {"Library": self.library,
                                             "Training Data": self.training_data}
        holders = [self.library, self.training_data] + [
            w.VBox([w.HTML("<i>Loading …</i>")]) for _ in factories]
        self.tabs = w.Tab(children=holders,
                          titles=["Library", "Training Data", *(t for t, _ in factories)])
        self.tabs.add_class("ab-tabs")
        title = w.HTML(f'{CSS}<div class="ab-title">actorbench</div>')
        super().__init__([title, self.tabs])
        self.add_class("ab-app")
        self.state.observe(self._on_state_open_page, "open_page")
        self.tabs.observe(self._on_tab_index, "selected_index")

    def _on_tab_index(self, change: dict) -> None:  # type: ignore[type-arg]
        if change["new"] is not None:
            self.page(self.tabs.titles[change["new"]])

    def _on_state_open_page(self, change: dict) -> None:  # type: ignore[type-arg]
        if change["new"] in self.tabs.titles:
            self.tabs.selected_index = list(self.tabs.titles).index(change["new"])
        self.state.open_page = ""

    @staticmethod
    def _optional_pages() -> list[tuple[str, Callable[[AppState], w.Widget]]]:
        out: list[tuple[str, Callable[[AppState], w.Widget]]] = []
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
        """The page called ``title``, built on first use."""
        if title not in self._built:
            page = self._factories[title](self.state)
            self._built[title] = page
            holder = self.tabs.children[list(self.tabs.titles).index(title)]
            holder.children = [page]
        return self._built[title]

    @property
    def batch(self) -> BatchView:
        return self.page("Batch sync")  # type: ignore[return-value]

    @property
    def cache(self) -> CacheView:
        return self.page("Cache")  # type: ignore[return-value]

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
