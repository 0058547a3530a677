"""The Library's gallery: a page of actor cards drawn as one HTML block.

Hundreds of widgets render slowly in Voila, so the cards are markup, and their buttons are
plain ``<button data-ab-action=".." data-actor="..">`` elements. A few lines of script in the
Voila page (``actorbench/server/templates/index.html.j2``) write ``"<action> <name> <nonce>"`` into
the hidden ``pick`` box (``.ab-pick`` in the ``.ab-picker`` view) when one is clicked; ``pick`` is
an ordinary ``Text`` widget, so tests drive it the same way::

    gallery.pick.value = "training_data 0002_european_35_female 1"
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as w

from actorbench.present.html import h
from actorbench.ui.mvc import PageModel, run_in_background
from actorbench.ui.pages.library.model import PAGE_SIZE
from actorbench.ui.state import AppState
from actorbench.ui.widgets.actor_card import (
    ACTIONS,
    Tally,
    card_html,
    empty_state,
    identity_html,
)
from actorbench.ui.widgets.common import ErrorBox, guarded, parse_pick, resized
from actorbench.ui.widgets.thumbs import CARD_PX, CardThumbs, card_thumb_px


class GalleryView(w.VBox):
    """The result count, the pager, one page of cards, and the hidden box their buttons fill.

    ``model`` has ``results`` (names, in order) and ``page`` (a ``LibraryModel``)."""

    def __init__(self, state: AppState, model: Any, errors: ErrorBox) -> None:
        self.state = state
        self.model = model
        self.thumbs = CardThumbs(state.wb.layout)
        self._lock = threading.Lock()
        #: the tally each card of the page shown was drawn with (a listing that says
        #: otherwise draws the page again)
        self.drawn: dict[str, Tally] = {}
        self._generation = 0  # of the last render: a slower, older one never overwrites it
        self.count = w.HTML()
        self.count.add_class("ab-result-count")
        self.prev_button = w.Button(description="‹ Previous", tooltip="Previous page")
        self.next_button = w.Button(description="Next ›", tooltip="Next page")
        self.page_label = w.HTML()
        self.page_label.add_class("ab-page-label")
        self.cards = w.HTML()
        self.cards.add_class("ab-gallery-cards")
        self.leaving = False  # a card's button is opening another page
        self.pick = w.Text(continuous_update=True, layout=w.Layout(display="none"))
        self.pick.add_class("ab-gallery-pick")
        self.pick.add_class("ab-pick")
        pager = w.HBox([self.count, self.prev_button, self.page_label, self.next_button])
        pager.add_class("ab-pager")
        super().__init__([pager, self.cards, self.pick])
        self.add_class("ab-gallery-view")
        self.add_class("ab-picker")
        g = guarded(errors)
        self.prev_button.on_click(g(lambda _: self._turn(-1)))
        self.next_button.on_click(g(lambda _: self._turn(+1)))
        self.pick.observe(g(self._on_pick_value), "value")
        model.observe(g(lambda _: self.render()), ["results", "page"])
        state.observe(g(self._on_state_pixel_ratio), "pixel_ratio")
        self.render()

    def _on_state_pixel_ratio(self, change: dict[str, Any]) -> None:
        """The page says its screen's ratio: the cards again, sharp for it, if that changes
        their thumbnails' size."""
        if resized(change, CARD_PX, 1):
            self.thumbs.px = card_thumb_px(change["new"])
            self.render()

    def _turn(self, by: int) -> None:
        self.model.page += by

    def _on_pick_value(self, change: dict[str, Any]) -> None:
        picked = parse_pick(change["new"], ACTIONS, "A card")
        if picked is None:
            return  # cleared, or half-typed by hand
        action, name = picked
        actor = self.state.wb.registry.get(name)  # an unknown name: said in the error box
        # a button that opens another page: the Library is left, so it redraws its cards for
        # the choice when it is shown again, not now (``LibraryView.leaving``), and the page
        # opened gets the kernel and the connection to itself
        self.leaving = bool(ACTIONS[action])
        try:
            self.state.actor = actor.name
            if ACTIONS[action]:
                self.state.open_page = ACTIONS[action]
        finally:
            self.leaving = False

    def render(self, thumbs_pending_ok: bool = True) -> None:
        """Draw the current page of cards; thumbnails not on disk yet follow from a
        background thread (the card shows "…" until then)."""
        from actorbench.faces.health import cached_health  # (reads caches: never analyses)

        m = self.model
        with self._lock:
            # read under the lock: a render that waited for it draws the results as they are
            # now, not as they were when it began waiting (another thread's render, of newer
            # results, may have gone first: actors.json re-read while the visit was drawn)
            results = list(m.results)
            page, pages = m.page, max(1, -(-len(results) // PAGE_SIZE))
            start = page * PAGE_SIZE
            names = results[start:start + PAGE_SIZE]
            self._generation += 1
            generation = self._generation
            registry, chosen = self.state.wb.registry, self.state.actor
            pending, cards = [], []
            drawn: dict[str, Tally] = {}
            for name in names:
                try:
                    actor = registry.get(name)
                except Exception:  # the registry changed under us: next render
                    continue
                thumb, note = self.thumbs.peek(name)
                if thumb is None:
                    pending.append(name)
                    thumb = self.thumbs.stand_in(name)  # (None: "…" until it is made)
                tally = drawn[name] = self.state.tally(actor)
                cards.append(card_html(actor, tally, thumb, selected=name == chosen,
                                       thumb_note=note, identity=identity_html(
                                           cached_health(self.state.wb.layout, name))))
            self.drawn = drawn
            n = len(results)
            self.count.value = f"<b>{n}</b> {'actor' if n == 1 else 'actors'}"
            self.page_label.value = (h("span", f"{start + 1}–{start + len(names)} of {n}")
                                     if names else "")
            self.prev_button.disabled = page <= 0
            self.next_button.disabled = page >= pages - 1
            self.cards.value = (h("div", *cards, cls="ab-gallery") if cards else empty_state(
                "No actor matches these filters",
                "clear a filter (Clear filters), or search by another name or id."))
        if pending and thumbs_pending_ok:
            self._make_thumbs(pending, generation)

    def _make_thumbs(self, names: list[str], generation: int) -> None:
        model: PageModel = self.model

        def show(made: bool) -> None:
            with self._lock:
                current = generation == self._generation
            if made and current:
                self.render(thumbs_pending_ok=False)  # (a file that stays unreadable: once)

        run_in_background(model, lambda: self.thumbs.make(names), on_done=show,
                          name="actorbench-card-thumbs")
