"""The Library page: search, facet filters, result list and the actor card."""

from __future__ import annotations

import threading

import ipywidgets as w
import traitlets as t

from ..actors.registry import ActorQuery, library_status
from ..palette import IMAGE
from ..sync.plan import ImageStatus
from .background import PageModel, run_in_background
from .common import ErrorBox, base_image_html, esc, guarded
from .state import AppState

ANY = "Any"
AGE_MIN, AGE_MAX = 18, 80


class LibraryModel(PageModel):
    """The query, its results, and whose card is shown; plain state the view binds to."""

    text = t.Unicode("")
    ethnicity = t.Unicode(ANY)
    gender = t.Unicode(ANY)
    age = t.Tuple(t.Int(), t.Int(), default_value=(AGE_MIN, AGE_MAX))
    status = t.Unicode(ANY)
    validated = t.Unicode(ANY)
    results = t.List(t.Unicode())
    actor = t.Unicode("")  # the actor on the card

    def __init__(self, state: AppState) -> None:
        super().__init__()
        self.state = state
        self.refresh()

    @t.validate("age")
    def _valid_age(self, proposal: dict) -> tuple[int, int]:  # type: ignore[type-arg]
        """Within the slider's range, low end first."""
        lo, hi = sorted(min(AGE_MAX, max(AGE_MIN, int(v))) for v in proposal["value"])
        return lo, hi

    @t.validate("validated")
    def _valid_validated(self, proposal: dict) -> str:  # type: ignore[type-arg]
        if proposal["value"] not in (ANY, "yes", "no"):
            raise t.TraitError(f"validated must be {ANY!r}, 'yes' or 'no', "
                               f"not {proposal['value']!r}")
        return proposal["value"]

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

    @t.observe("text", "ethnicity", "gender", "age", "status", "validated")
    def _on_query_change(self, change: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.results = [a.name for a in self.state.wb.registry.search(self.query())]

    def reset(self) -> None:
        with self.hold_trait_notifications():  # one search, not six
            self.text, self.ethnicity, self.gender = "", ANY, ANY
            self.age = (AGE_MIN, AGE_MAX)
            self.status, self.validated = ANY, ANY
        super().reset()


def counts_html(counts: dict[str, int]) -> str:
    parts = [f'<span class="ab-badge ab-status-{k}">{esc(IMAGE[ImageStatus(k)].label)}: '
             f"{v}</span>" for k, v in counts.items() if v]
    return '<div class="ab-counts">' + ("".join(parts) or "no images") + "</div>"


class LibraryView(w.VBox):
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.model = LibraryModel(state)
        facets = state.wb.registry.facet_values()
        self.errors = ErrorBox(self.model)
        self.search = w.Text(placeholder="Search by name or id", description="Search",
                             continuous_update=True)
        self.ethnicity = w.Dropdown(options=[ANY, *facets["ethnicity"]], description="Ethnicity")
        self.gender = w.Dropdown(options=[ANY, *facets["gender"]], description="Gender")
        self.age = w.IntRangeSlider(value=(18, 80), min=18, max=80, description="Age")
        self.status = w.Dropdown(options=[ANY, *facets["status"]], description="Status")
        self.validated = w.Dropdown(options=[ANY, "yes", "no"], description="Validated")
        for name in ("ethnicity", "gender", "age", "status", "validated"):
            w.link((self.model, name), (getattr(self, name), "value"))
        w.link((self.model, "text"), (self.search, "value"))
        self.count = w.HTML()
        self.count.add_class("ab-result-count")
        self.picker = w.Select(options=[], rows=14, layout=w.Layout(width="340px"))
        self.picker.add_class("ab-actor-picker")
        self.card = w.HTML()
        self.card.add_class("ab-card")
        self._card_lock = threading.Lock()  # the counts of an actor no longer chosen never show
        filters = w.VBox([self.search, self.ethnicity, self.gender, self.age, self.status,
                          self.validated])
        super().__init__([self.errors, w.HBox([filters, w.VBox([self.count, self.picker]),
                                               self.card])])
        self.model.observe(self._on_results_change, "results")
        self.picker.observe(guarded(self.errors)(self._on_picker_value), "value")
        state.observe(self._on_state_change, ["actor", "revision"])
        self._on_results_change(None)

    def _on_results_change(self, change: object) -> None:
        results = self.model.results
        self.count.value = f"<b>{len(results)}</b> actors"
        current = self.picker.value
        self.picker.options = results
        if current in results:
            self.picker.value = current

    def _on_picker_value(self, change: dict) -> None:  # type: ignore[type-arg]
        if change["new"]:
            self.state.actor = change["new"]

    def _on_state_change(self, change: object) -> None:
        try:
            self.render_card()
        except Exception as exc:  # noqa: BLE001
            self.errors.show(exc)

    def render_card(self) -> None:
        """The card at once from local files; the image counts (an S3 listing) follow from a
        background thread."""
        with self._card_lock:
            name = self.model.actor = self.state.actor
            revision = self.state.revision
            if not name:
                self.card.value = "<i>Choose an actor.</i>"
                return
            self._render_card(name, '<div class="ab-counts"><i>Status …</i></div>')

        def counts() -> str:
            try:
                return counts_html(self.state.plan(name).counts())
            except Exception as exc:  # noqa: BLE001 - S3 down must not hide the card
                return f'<div class="ab-error">Status unavailable: {esc(exc)}</div>'

        def show(html: str) -> None:
            with self._card_lock:
                if (self.model.actor, self.state.revision) == (name, revision):  # still wanted
                    self._render_card(name, html)

        run_in_background(self.model, counts, on_done=show)

    def _render_card(self, name: str, counts: str) -> None:
        wb = self.state.wb
        actor = wb.registry.get(name)
        f = actor.facets
        img = base_image_html(wb, name, '<div class="ab-thumb-empty">no base image</div>')
        vlm = actor.validated_lora_model
        model = (f'<div class="ab-validated">✅ Validated model: <b>{esc(vlm.get("version_name"))}'
                 f'</b><br><code>{esc(vlm.get("lora_url", ""))}</code></div>' if vlm
                 else '<div class="ab-validated-none">No validated model yet.</div>')
        self.card.value = (
            f'<div class="ab-actor-card">{img}<h3 class="ab-actor-name">{esc(name)}</h3>'
            f"<div>id {esc(actor.id)} · {esc(f.ethnicity)} · {esc(f.age)} · {esc(f.gender)} · "
            f"{esc(library_status(actor))}</div>{counts}{model}</div>")
