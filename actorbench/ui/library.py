"""The Library page: search, facet filters, result list and the actor card."""

from __future__ import annotations

import ipywidgets as w
import traitlets as t

from ..actors.registry import ActorQuery, library_status
from ..sync.plan import LABELS, ImageStatus
from .common import ErrorBox, base_image_html, esc, guarded
from .state import AppState

ANY = "Any"


class LibraryModel(t.HasTraits):
    """The query and its results; plain state the view binds to."""

    text = t.Unicode("")
    ethnicity = t.Unicode(ANY)
    gender = t.Unicode(ANY)
    age = t.Tuple(t.Int(), t.Int(), default_value=(18, 80))
    status = t.Unicode(ANY)
    validated = t.Unicode(ANY)
    results = t.List(t.Unicode())

    def __init__(self, state: AppState) -> None:
        super().__init__()
        self.state = state
        self.refresh()

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
        self.text, self.ethnicity, self.gender, self.age = "", ANY, ANY, (18, 80)
        self.status, self.validated = ANY, ANY


def counts_html(counts: dict[str, int]) -> str:
    parts = [f'<span class="ab-badge ab-status-{k}">{esc(LABELS[ImageStatus(k)])}: {v}</span>'
             for k, v in counts.items() if v]
    return '<div class="ab-counts">' + ("".join(parts) or "no images") + "</div>"


class LibraryView(w.VBox):
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.model = LibraryModel(state)
        facets = state.wb.registry.facet_values()
        self.errors = ErrorBox()
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
        name = self.state.actor
        if not name:
            self.card.value = "<i>Choose an actor.</i>"
            return
        wb = self.state.wb
        actor = wb.registry.get(name)
        f = actor.facets
        img = base_image_html(wb, name, '<div class="ab-thumb-empty">no base image</div>')
        try:
            counts = counts_html(self.state.plan(name).counts())
        except Exception as exc:  # noqa: BLE001 - S3 down must not hide the card
            counts = f'<div class="ab-error">Status unavailable: {esc(exc)}</div>'
        vlm = actor.validated_lora_model
        model = (f'<div class="ab-validated">✅ Validated model: <b>{esc(vlm.get("version_name"))}'
                 f'</b><br><code>{esc(vlm.get("lora_url", ""))}</code></div>' if vlm
                 else '<div class="ab-validated-none">No validated model yet.</div>')
        self.card.value = (
            f'<div class="ab-actor-card">{img}<h3 class="ab-actor-name">{esc(name)}</h3>'
            f"<div>id {esc(actor.id)} · {esc(f.ethnicity)} · {esc(f.age)} · {esc(f.gender)} · "
            f"{esc(library_status(actor))}</div>{counts}{model}</div>")
