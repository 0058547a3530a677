"""The dashboard: one App with a tab per page; errors at start-up are shown, not raised."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import ipywidgets as w

from actorbench.actors.registry import FileSignature, file_signature
from actorbench.errors import ActorbenchError, describe_error
from actorbench.settings import Settings, project_root
from actorbench.ui.mvc import PageModel
from actorbench.ui.pages import BATCH, CACHE, TRAINING_DATA, page_for_link
from actorbench.ui.pages import LIBRARY as LIBRARY_PAGE
from actorbench.ui.pages import PAGES as PAGE_LIST
from actorbench.ui.pages.library.view import LibraryView
from actorbench.ui.pages.training_data.view import TrainingDataView
from actorbench.ui.state import AppState
from actorbench.ui.visit import on_visit, query_params
from actorbench.ui.widgets.actor_card import actor_header
from actorbench.ui.widgets.common import CSS, error_html, parse_pixel_ratio
from actorbench.workbench import Workbench

if TYPE_CHECKING:
    from actorbench.ui.pages.batch.view import BatchView
    from actorbench.ui.pages.cache.view import CacheView

#: how often the app checks whether actors.json changed on disk
REGISTRY_POLL_S = 2.0

Signatures = tuple[FileSignature | None, FileSignature | None]

LIBRARY = LIBRARY_PAGE.title
#: the tabs' titles, in order (``ui.pages.PAGES`` is the registry)
PAGES = tuple(p.title for p in PAGE_LIST)


class App(w.VBox):
    """``App.from_settings()`` is all a notebook needs.

    The Library and Training Data pages are built with the app; the others are built the
    first time their tab is opened (or asked for), so the page a visitor opens carries fewer
    widgets to render.
    """

    def __init__(self, wb: Workbench) -> None:
        self.state = AppState(wb)
        # the Training Data page first: it observes the actor first, so its listing starts
        # before the Library redraws its cards (a card's button opens that page)
        self.training_data = TrainingDataView(self.state)
        self.library = LibraryView(self.state)
        self._factories: dict[str, Callable[[AppState], w.Widget]] = {
            p.title: p.build for p in PAGE_LIST}
        self._built: dict[str, w.Widget] = {LIBRARY_PAGE.title: self.library,
                                             TRAINING_DATA.title: self.training_data}
        holders = [self._built.get(p.title) or w.VBox([w.HTML("<i>Loading …</i>")])
                   for p in PAGE_LIST]
        self.tabs = w.Tab(children=holders, titles=[p.title for p in PAGE_LIST])
        self.tabs.add_class("ab-tabs")
        self.title = w.HTML()
        self.title.add_class("ab-app-header")
        # the style sheet apart from the header: choosing an actor redraws the header only
        # (a replaced style sheet makes the browser restyle the whole page)
        # the page script writes the screen's pixel ratio here (server/templates/index.html.j2)
        self.screen = w.Text(continuous_update=True, layout=w.Layout(display="none"))
        self.screen.add_class("ab-screen")
        super().__init__([w.HTML(CSS, layout=w.Layout(display="none")), self.screen,
                          self.title, self.tabs])
        self.add_class("ab-app")
        self.screen.observe(self._on_screen_value, "value")
        self.state.observe(self._on_state_open_page, "open_page")
        self.state.observe(self._on_state_actor, "actor")
        self.tabs.observe(self._on_tab_index, "selected_index")
        # the actor chosen last time, then the one the URL asks for (?actor=0002)
        self.state.actor = self.state.remembered_actor()
        self._on_state_actor(None)
        self.state.remember_choices()
        on_visit(self.apply_query)
        # actors.json changes behind the page's back (the CLI, a teammate's push, a training
        # marked good elsewhere); and Voila's preheated kernel builds the page before the
        # visit: watch the file, so what a visitor sees is what the file says now
        self._stop = threading.Event()
        # the file as it was when the library shown was read, not as it is now: a change made
        # while the page was being built (a preheated kernel takes seconds) is followed too
        read = self.state.wb.registry.signature
        threading.Thread(target=self._watch_registry, args=(REGISTRY_POLL_S, read),
                         daemon=True, name="actorbench-registry-watch").start()

    def _watch_registry(self, every: float, seen: FileSignature | None) -> None:
        path = self.state.wb.settings.registry_path
        broken = False
        while not self._stop.wait(every):
            now = file_signature(path)
            if now != seen:
                seen = now
                try:
                    self.reload()
                except Exception as exc:  # a half-edited file: say so, go on
                    self.library.errors.show(exc)
                    broken = True
                else:
                    # what was read (team mode may have rewritten the file on reading it)
                    seen = self.state.wb.registry.signature or now
                    if broken:  # fixed: the message about it goes too
                        self.library.errors.clear()
                        broken = False

    def close(self) -> None:
        """Stop watching actors.json and close the widgets."""
        self._stop.set()
        super().close()

    def _on_screen_value(self, change: dict[str, Any]) -> None:
        ratio = parse_pixel_ratio(change["new"])
        if ratio is not None:  # anything else is not the page script's: ignored
            self.state.pixel_ratio = ratio

    def _on_state_actor(self, change: object) -> None:
        """Every page's header names the actor the way its card does."""
        name = self.state.actor
        try:
            actor = self.state.wb.registry.get(name) if name else None
        except ActorbenchError:  # gone from actors.json meanwhile
            actor = None
        self.title.value = (f'<div class="ab-header"><span class="ab-title">actorbench'
                            f"</span>{actor_header(actor)}</div>")

    def apply_query(self, query: str) -> None:
        """Open what a link asks for: ``?actor=0002`` (an id or a name) and
        ``&page=training-data`` (a tab's title); without ``actor``, the one chosen last."""
        params = query_params(query)
        ref = params.get("actor", "").strip()
        try:
            name = self.state.wb.registry.get(ref).name if ref else \
                self.state.remembered_actor()
        except ActorbenchError as exc:
            self.library.errors.show(f"The link asks for an actor actors.json does not have: "
                                     f"{describe_error(exc)}")
            return
        self.state.actor = name
        wanted = page_for_link(params.get("page", ""))
        if wanted is not None:
            self.state.open_page = wanted.title

    def _on_tab_index(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            title = self.tabs.titles[change["new"]]
            self.page(title)
            self.library.shown(title == LIBRARY)

    def _on_state_open_page(self, change: dict[str, Any]) -> None:
        if change["new"] in self.tabs.titles:
            self.tabs.selected_index = list(self.tabs.titles).index(change["new"])
        self.state.open_page = ""

    def page(self, title: str) -> w.Widget:
        """The page called ``title``, built on first use; if building it fails, a box saying
        why takes its place (and opening the tab again tries again)."""
        if title not in self._built:
            holder = self.tabs.children[list(self.tabs.titles).index(title)]
            try:
                page = self._factories[title](self.state)
            except Exception as exc:  # shown on the tab, never dropped
                failed = w.HTML(error_html(f"The {title} page could not be built: "
                                           f"{describe_error(exc)}"))
                failed.add_class("ab-page-failed")
                holder.children = [failed]
                return failed
            self._built[title] = page
            holder.children = [page]
        return self._built[title]

    def wait_idle(self, timeout: float = 120.0) -> bool:
        """Wait until no page built so far has background work running (tests use it)."""
        models = [getattr(p, "model", None) for p in self._built.values()]
        return all(m.wait_idle(timeout) for m in models if isinstance(m, PageModel))

    def reload(self) -> None:
        """Read ``actors.json`` again and refresh what the pages show (someone else may have
        changed it since this app was built)."""
        self.state.wb.reload_registry()
        self.library.model.refresh()
        self.state.changed()

    @property
    def batch(self) -> BatchView:
        return cast("BatchView", self.page(BATCH.title))

    @property
    def cache(self) -> CacheView:
        return cast("CacheView", self.page(CACHE.title))

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> w.Widget:
        """Build the app; a configuration problem becomes a clear message on the page, which
        gives way to the app once the problem is fixed (``StartupPage``)."""
        seen = StartupPage.signature(settings)  # before the try: a fix made meanwhile counts
        try:
            return cls(_workbench(settings))
        except ActorbenchError as exc:
            return StartupPage(settings, exc, REGISTRY_POLL_S, seen)


class StartupPage(w.VBox):
    """Why the app cannot start, until it can: then the app itself.

    Voila's preheated kernel runs the notebook before anyone visits. A broken actors.json at
    that moment must not greet the visitor after it was fixed: whenever actors.json or .env
    changes, the start is tried again, and the app replaces the message.
    """

    def __init__(self, settings: Settings | None, exc: BaseException, every: float,
                 seen: Signatures | None = None) -> None:
        """``seen``: the files as they were before the failed start (else: as they are now)."""
        self.settings = settings
        self.message = w.HTML(CSS + error_html(describe_error(exc)))
        self.app: App | None = None
        super().__init__([self.message])
        self._stop = threading.Event()
        threading.Thread(target=self._watch, args=(every, seen or self.signature(settings)),
                         daemon=True, name="actorbench-startup-watch").start()

    @property
    def value(self) -> str:
        """The message on the page ("" once the app runs)."""
        return "" if self.app is not None else self.message.value

    def retry(self) -> bool:
        """Try to start the app again; True once it runs."""
        try:
            app = App(_workbench(self.settings))
        except ActorbenchError as exc:
            self.message.value = CSS + error_html(describe_error(exc))
            return False
        self.app = app
        self.children = [app]
        self._stop.set()
        return True

    def _watch(self, every: float, seen: Signatures) -> None:
        while not self._stop.wait(every):
            now = self.signature(self.settings)
            if now != seen:
                seen = now
                try:
                    self.retry()
                except Exception as exc:  # shown, and tried again at the next
                    self.message.value = CSS + error_html(describe_error(exc))

    @staticmethod
    def signature(settings: Settings | None) -> Signatures:
        """actors.json's and .env's signatures: a change to either may fix the start."""
        try:
            registry = (settings or Settings.from_env()).registry_path
        except ActorbenchError:  # a bad setting in .env: watching .env is enough
            registry = None
        return file_signature(registry), file_signature(project_root() / ".env")

    def close(self) -> None:
        """Stop watching and close the app, if it started."""
        self._stop.set()
        if self.app is not None:
            self.app.close()
        super().close()


def _workbench(settings: Settings | None) -> Workbench:
    """A workbench whose registry and store are known to load (else ``ActorbenchError``)."""
    wb = Workbench(settings or Settings.from_env())
    wb.registry  # noqa: B018 - load now, so a malformed file is reported here
    wb.store  # noqa: B018 - and missing credentials too
    return wb

