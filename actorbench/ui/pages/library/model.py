"""The Library page's model: the query, its results, the page of them shown, and whose card
is shown (no widget in here)."""

from __future__ import annotations

import threading
from typing import Any

import traitlets as t

from actorbench.actors.registry import ActorQuery
from actorbench.ui.mvc import PageModel
from actorbench.ui.state import AppState

ANY = "Any"
#: cards on one page of the gallery: few enough to draw at once, enough to browse
PAGE_SIZE = 24
AGE_MIN, AGE_MAX = 18, 80
#: the identity filter's choice: actors whose analysed pictures do not all fit
ATTENTION = "attention"


class LibraryModel(PageModel):
    """The query, its results, the page of them shown, and whose card is shown; plain state
    the view binds to."""

    text = t.Unicode("")
    ethnicity = t.Unicode(ANY)
    gender = t.Unicode(ANY)
    age = t.Tuple(t.Int(), t.Int(), default_value=(AGE_MIN, AGE_MAX))
    status = t.Unicode(ANY)
    validated = t.Unicode(ANY)
    identity = t.Unicode(ANY)  # ANY or ATTENTION (from the faces cache only: no analysis)
    results = t.List(t.Unicode())
    page = t.Int(0)  # of ``results``, ``PAGE_SIZE`` cards each
    actor = t.Unicode("")  # the actor on the card

    def __init__(self, state: AppState) -> None:
        super().__init__()
        self.state = state
        self._searching = threading.RLock()
        self.refresh()

    @t.validate("age")
    def _valid_age(self, proposal: dict[str, Any]) -> tuple[int, int]:
        """Within the slider's range, low end first."""
        lo, hi = sorted(min(AGE_MAX, max(AGE_MIN, int(v))) for v in proposal["value"])
        return lo, hi

    @t.validate("validated")
    def _valid_validated(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] not in (ANY, "yes", "no"):
            raise t.TraitError(f"validated must be {ANY!r}, 'yes' or 'no', "
                               f"not {proposal['value']!r}")
        return proposal["value"]

    @t.validate("identity")
    def _valid_identity(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] not in (ANY, ATTENTION):
            raise t.TraitError(f"identity must be {ANY!r} or {ATTENTION!r}, "
                               f"not {proposal['value']!r}")
        return proposal["value"]

    @t.validate("page")
    def _valid_page(self, proposal: dict[str, Any]) -> int:
        """A page that exists: the last one at most, the first one for no results."""
        return max(0, min(int(proposal["value"]), (len(self.results) - 1) // PAGE_SIZE))

    @property
    def filtered(self) -> bool:
        """Any filter or search text set."""
        return (self.text.strip() != "" or (self.ethnicity, self.gender, self.status,
                                            self.validated, self.identity) != (ANY,) * 5
                or self.age != (AGE_MIN, AGE_MAX))

    def query(self) -> ActorQuery:
        return ActorQuery(
            text=self.text,
            ethnicity=None if self.ethnicity == ANY else self.ethnicity,
            gender=None if self.gender == ANY else self.gender,
            age_min=None if self.age[0] <= 18 else self.age[0],
            age_max=None if self.age[1] >= 80 else self.age[1],
            status=None if self.status == ANY else self.status,
            validated=None if self.validated == ANY else self.validated == "yes",
        )

    @t.observe("text", "ethnicity", "gender", "age", "status", "validated", "identity")
    def _on_query_change(self, change: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Search again; the gallery goes back to its first page, in one render. One search
        at a time: a search of the registry as it was never lands after one of the registry
        re-read (the watcher's thread and the UI's may both search)."""
        with self._searching:
            results = [a.name for a in self.state.wb.registry.search(self.query())]
            if self.identity == ATTENTION:
                results = [n for n in results if self.needs_attention(n)]
            with self.hold_trait_notifications():
                self.results = results
                self.page = 0

    def needs_attention(self, name: str) -> bool:
        """From the cached face analyses only (``faces.health``): never analyses here."""
        from actorbench.faces.health import cached_health

        health = cached_health(self.state.wb.layout, name)
        return health is not None and health.needs_attention

    def page_of(self, name: str) -> int | None:
        """The page ``name`` is on, None when the filters leave it out."""
        try:
            return self.results.index(name) // PAGE_SIZE
        except ValueError:
            return None

    def reset(self) -> None:
        with self.hold_trait_notifications():  # one search, not seven
            self.text, self.ethnicity, self.gender = "", ANY, ANY
            self.age = (AGE_MIN, AGE_MAX)
            self.status, self.validated, self.identity = ANY, ANY, ANY
        super().reset()
