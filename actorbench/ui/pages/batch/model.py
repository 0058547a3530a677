"""The Batch sync page's model: plain state with validation and ``reset()``."""

from __future__ import annotations

from typing import Any

import traitlets as t

from actorbench.actors.registry import ActorQuery
from actorbench.present.words import plural
from actorbench.ui.mvc import PageModel, direction
from actorbench.ui.state import AppState

ANY = "Any"  # a facet filter that lets every actor through
#: at most this many picks are named one by one ("… and 12 more")
PICKS_NAMED = 12


class BatchModel(PageModel):
    """The filters, the actors they let through, the picks, and which sync runs. A pick
    stays picked while a filter hides it: the sync takes every pick, and ``picks_text`` names
    them all."""

    filter = t.Unicode("")  # text in the name or the id
    ethnicity = t.Unicode(ANY)
    gender = t.Unicode(ANY)
    age_band = t.Unicode(ANY)  # "30-39", "unknown", or ANY
    status = t.Unicode(ANY)  # the Library's status: synced, not_synced, no_data
    names = t.List(t.Unicode())  # every actor the filters let through
    selected = t.Tuple()  # the picks, in library order; hidden ones included
    syncing = t.Unicode("")

    def __init__(self, state: AppState) -> None:
        super().__init__()
        self.state = state
        self.names = self._matching()

    def query(self) -> ActorQuery:
        lo = hi = None
        if self.age_band not in (ANY, "unknown"):
            lo, _, hi = self.age_band.partition("-")
        return ActorQuery(text=self.filter,
                          ethnicity=None if self.ethnicity == ANY else self.ethnicity,
                          gender=None if self.gender == ANY else self.gender,
                          age_min=int(lo) if lo else None, age_max=int(hi) if hi else None,
                          status=None if self.status == ANY else self.status)

    def _matching(self) -> list[str]:
        found = self.state.wb.registry.search(self.query())
        if self.age_band == "unknown":
            found = [a for a in found if a.facets.age is None]
        return [a.name for a in found]

    @t.observe("filter", "ethnicity", "gender", "age_band", "status")
    def _on_filter(self, change: dict[str, Any]) -> None:
        self.names = self._matching()  # the picks stay as they are

    @t.validate("selected")
    def _valid_selected(self, proposal: dict[str, Any]) -> tuple[str, ...]:
        order = [a.name for a in self.state.wb.registry]
        unknown = [n for n in proposal["value"] if n not in order]
        if unknown:
            raise t.TraitError(f"not actors of the library: {', '.join(map(str, unknown))}")
        picked = set(proposal["value"])
        return tuple(n for n in order if n in picked)

    @property
    def shown(self) -> tuple[str, ...]:
        """The picks the filters let through (what the list can show as chosen)."""
        listed = set(self.names)
        return tuple(n for n in self.selected if n in listed)

    @property
    def hidden(self) -> tuple[str, ...]:
        listed = set(self.names)
        return tuple(n for n in self.selected if n not in listed)

    def choose_shown(self, chosen: tuple[str, ...] | list[str]) -> None:
        """The list's choice among the actors it shows; picks it does not show are kept."""
        self.selected = (*self.hidden, *chosen)

    def picks_text(self) -> str:
        """``"3 actors picked: 0001, 0004, 0019"`` (and how many of them the filters hide)."""
        picks = self.selected
        if not picks:
            return "No actor picked."
        ids = [n.split("_", 1)[0] for n in picks[:PICKS_NAMED]]
        more = f" and {len(picks) - PICKS_NAMED} more" if len(picks) > PICKS_NAMED else ""
        hidden = len(self.hidden)
        return (f"{plural(len(picks), 'actor')} picked: {', '.join(ids)}{more}"
                + (f" ({hidden} hidden by the filters)" if hidden else "") + ".")

    @t.validate("syncing")
    def _valid_syncing(self, proposal: dict[str, Any]) -> str:
        return direction(proposal)

    def reset(self) -> None:
        with self.hold_trait_notifications():
            self.filter = ""
            self.ethnicity = self.gender = self.age_band = self.status = ANY
        self.selected = ()
        super().reset()
