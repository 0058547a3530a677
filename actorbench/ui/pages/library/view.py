"""The Library page: search, facet filters, a gallery of actor cards, and the chosen actor.

(~300 lines: the page's view and its wiring to the gallery, filters and chosen-actor panel,
which live in gallery.py and cards.py.)"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as w

from actorbench.actors.registry import LIBRARY_STATUSES
from actorbench.present.html import h
from actorbench.team.documents import REGISTRY_DOC
from actorbench.ui.mvc import run_in_background
from actorbench.ui.pages import TRAINING, TRAINING_DATA
from actorbench.ui.pages.library.gallery import GalleryView
from actorbench.ui.pages.library.model import ANY, ATTENTION, LibraryModel
from actorbench.ui.state import AppState
from actorbench.ui.team_follow import follow_team
from actorbench.ui.widgets.actor_card import (
    STATUS_WORDS,
    Tally,
    actor_label,
    counts_html,
    counts_words,
    empty_state,
    ethnicity_words,
    identity_html,
    trainable,
    validated_version,
)
from actorbench.ui.widgets.common import (
    BASE_CSS_PX,
    ErrorBox,
    Worker,
    base_image_html,
    guarded,
    resized,
)


def _options(values: list[str], words: Any = str) -> list[tuple[str, str]]:
    """Dropdown options: a word for each value (``east_asian`` shows as ``East Asian``)."""
    return [(ANY, ANY), *((words(v), v) for v in values)]


class LibraryView(w.VBox):
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.model = LibraryModel(state)
        facets = state.wb.registry.facet_values()
        self.errors = ErrorBox(self.model)
        self.worker = Worker(self.errors)
        self.search = w.Text(placeholder="Search by name or id", description="Search",
                             continuous_update=True)
        self.ethnicity = w.Dropdown(options=_options(facets["ethnicity"], ethnicity_words),
                                    description="Ethnicity")
        self.gender = w.Dropdown(options=_options(facets["gender"], str.capitalize),
                                 description="Gender")
        self.age = w.IntRangeSlider(value=(18, 80), min=18, max=80, description="Age")
        self.status = w.Dropdown(options=_options(list(LIBRARY_STATUSES), STATUS_WORDS.get),
                                 description="Status")
        self.validated = w.Dropdown(options=[(ANY, ANY), ("Yes", "yes"), ("No", "no")],
                                    description="Validated")
        self.identity = w.Dropdown(options=[(ANY, ANY), ("Needs attention", ATTENTION)],
                                   description="Identity")
        for name in ("ethnicity", "gender", "age", "status", "validated", "identity"):
            w.link((self.model, name), (getattr(self, name), "value"))
        w.link((self.model, "text"), (self.search, "value"))
        self.clear_button = w.Button(description="Clear filters", disabled=True)
        self.gallery = GalleryView(state, self.model, self.errors)
        self.visible, self._stale = True, False  # (``shown``)
        self.count = self.gallery.count
        self.card = w.HTML()
        self.card.add_class("ab-card")
        self.open_button = w.Button(description="Training data", disabled=True,
                                    button_style="primary")
        self.train_button = w.Button(description="Train", disabled=True)
        self.sync_button = w.Button(description="Sync", disabled=True,
                                    tooltip="Download what is in S3, upload what is only here")
        self.note = w.HTML()
        self.note.add_class("ab-library-note")
        self._card_lock = threading.Lock()  # the counts of an actor no longer chosen never show
        self._syncing = False
        filters = w.VBox([self.search, self.ethnicity, self.gender, self.age, self.status,
                          self.validated, self.identity, self.clear_button])
        chosen = w.VBox([self.card, w.HBox([self.open_button, self.train_button,
                                            self.sync_button]), self.note])
        chosen.add_class("ab-chosen")
        super().__init__([self.errors, w.HBox([filters, chosen]), self.gallery])
        self.add_class("ab-library")
        g = guarded(self.errors)
        self.clear_button.on_click(g(lambda _: self.model.reset()))
        self.open_button.on_click(g(lambda _: self._open(TRAINING_DATA.title)))
        self.train_button.on_click(g(lambda _: self._open(TRAINING.title)))
        self.sync_button.on_click(g(lambda _: self.sync()))
        self.model.observe(g(self._on_model_results), "results")
        state.observe(self._on_state_change, ["actor", "revision"])
        state.observe(g(self._on_state_pixel_ratio), "pixel_ratio")
        self._card_args: tuple[str, str, Tally | None] | None = None  # the card shown
        self.render_card()
        # team mode: a mark or an actor from another workstation shows without a reload
        follow_team(state, self._on_team_news, self.errors.show)

    def _on_team_news(self, names: set[str]) -> None:
        if REGISTRY_DOC in names:  # (the follower has read the registry again)
            self.model.refresh()
            self.state.changed()

    def _open(self, page: str) -> None:
        if self.state.actor:
            self.state.open_page = page

    def _on_state_pixel_ratio(self, change: dict[str, Any]) -> None:
        """The page says its screen's ratio: the chosen actor's base image again (off the UI
        thread), sharp for it, if that changes its size (the gallery redraws its cards)."""
        if not resized(change, BASE_CSS_PX, 1):
            return

        def redraw() -> None:
            with self._card_lock:
                if self._card_args is not None and self._card_args[0] == self.state.actor:
                    self._render_card(*self._card_args)

        run_in_background(self.model, redraw)

    def _on_model_results(self, change: object) -> None:
        self.clear_button.disabled = not self.model.filtered

    def shown(self, visible: bool) -> None:
        """The app's tabs changed: a Library left behind draws nothing until it is shown
        again, then catches up with the actor chosen meanwhile."""
        self.visible = visible
        if visible and self._stale:
            self._stale = False
            self._on_state_change({"name": "actor", "new": self.state.actor})

    def _on_state_change(self, change: dict[str, Any]) -> None:
        if not self.visible or self.gallery.leaving:
            self._stale = True  # (drawn when the Library is shown again)
            return
        try:
            if change["name"] == "actor":  # chosen elsewhere (a link, another page): show it
                page = self.model.page_of(change["new"])
                if page is not None and page != self.model.page:
                    self.model.page = page  # (renders the gallery)
                else:
                    self.gallery.render()
            else:
                self.gallery.render()
            self.render_card()
        except Exception as exc:
            self.errors.show(exc)

    def render_card(self) -> None:
        """The card at once from local files; the image counts (an S3 listing) follow from a
        background thread."""
        with self._card_lock:
            name = self.model.actor = self.state.actor
            revision = self.state.revision
            if not name:
                self.card.value = empty_state(
                    "No actor chosen", "click a card below, or search by name or id.")
                self._enable(None)
                return
            self._render_card(name, '<div class="ab-counts"><i>Status …</i></div>', None)

        def counts() -> tuple[str, Tally | None]:
            try:
                plan = self.state.plan(name)
            except Exception as exc:  # S3 down must not hide the card
                return h("div", "Status unavailable: ", exc, cls="ab-error"), None
            return counts_html(plan.counts()), self.state.tally(self.state.wb.registry.get(
                name))

        def show(result: tuple[str, Tally | None]) -> None:
            with self._card_lock:
                if (self.model.actor, self.state.revision) == (name, revision):  # still wanted
                    self._render_card(name, *result)
            # compared with what the gallery drew, not with what was known when this card
            # began: another page's listing may have landed in between, after the gallery
            # was drawn without it
            listed, drawn = result[1], self.gallery.drawn.get(name)
            if listed is not None and drawn is not None and listed.shown != drawn.shown:
                self.gallery.render()  # its card counts from the listing now

        run_in_background(self.model, counts, on_done=show)

    def _render_card(self, name: str, counts: str, listed: Tally | None) -> None:
        from actorbench.faces.health import cached_health  # (reads caches: never analyses)

        self._card_args = (name, counts, listed)
        wb = self.state.wb
        actor = wb.registry.get(name)
        tally = listed or self.state.tally(actor)
        img = base_image_html(wb, name, '<div class="ab-thumb-empty">No base image</div>',
                              self.state.pixel_ratio)
        vlm = actor.validated_lora_model
        model = (h("div", "✓ Validated model: ", h("b", validated_version(actor)), h("br"),
                   h("code", vlm.get("lora_url", "")), cls="ab-validated") if vlm
                 else h("div", "No validated model yet.", cls="ab-validated-none"))
        todo: str = ""
        if tally.empty:  # said once, with what to do about it
            todo = empty_state("No images yet", "generate some on the Training Data page, or "
                               "add files to", str(wb.layout.training_dir(name)))
            counts = counts if "ab-error" in counts else ""
        else:
            counts += h("div", counts_words(tally), cls="ab-gcard-counts")
        self.card.value = (
            f'<div class="ab-actor-card">{img}<div>'
            f'{h("h3", name, cls="ab-actor-name")}'
            f'{h("div", actor_label(actor), " · id ", actor.id, cls="ab-actor-facets")}'
            f"{counts}{identity_html(cached_health(wb.layout, name))}{model}{todo}</div></div>")
        self._enable(tally)

    def _enable(self, tally: Tally | None) -> None:
        """What cannot work is off, and its tooltip says why."""
        why_not = "Choose an actor first." if tally is None else trainable(tally)
        self.open_button.disabled = tally is None
        self.train_button.disabled = bool(why_not)
        self.train_button.tooltip = why_not
        self.sync_button.disabled = tally is None or tally.empty or self._syncing

    def sync(self) -> bool:
        """Pull, then push, the chosen actor: what is in S3 comes here, what is only here goes
        to S3; local edits and conflicts are kept (the Training Data page settles them)."""
        name = self.state.actor
        if not name or self.sync_button.disabled:
            return False
        engine = self.state.wb.engine
        self.sync_button.disabled = self._syncing = True
        self.note.value = h("span", f"Syncing {name} …")
        done_: dict[str, Any] = {}

        def job() -> None:
            done_["pull"] = engine.pull([name])[name]
            done_["push"] = engine.push([name])[name]

        def done() -> None:
            pull, push = done_.get("pull"), done_.get("push")
            if pull is not None and push is not None:
                kept = len(set(pull.conflicts) | set(push.conflicts))
                bad = pull.failed + push.failed + len(push.invalid)
                words = [f"{pull.transferred} downloaded", f"{push.transferred} uploaded"]
                words += [f"{kept} conflict{'s' if kept != 1 else ''} kept"] if kept else []
                words += [f"{bad} not synced (see Training Data)"] if bad else []
                self.note.value = h("span", "Synced: " + ", ".join(words) + ".",
                                    cls="ab-ok-text" if not (kept or bad) else "ab-hint")
            else:
                self.note.value = ""
            self._syncing = False
            self.state.changed()

        return self.worker.start(job, done)
