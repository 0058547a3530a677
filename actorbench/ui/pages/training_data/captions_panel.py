"""The Training Data page's captions: edit the previewed image's, bulk edits with a preview of
every change, one-step undo. The domain is ``actorbench.captions``; this is only its view."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import ipywidgets as w

from actorbench.captions import Caption, CaptionStore, drafts_for, facet_words
from actorbench.captions import bulk as bulk_edits
from actorbench.faces.service import face_words
from actorbench.present.html import Html, h, join
from actorbench.sync.plan import ActorPlan
from actorbench.ui.state import AppState
from actorbench.ui.widgets.common import ErrorBox, guarded

OPERATIONS = [("Apply draft", "draft"), ("Add prefix", "prefix"), ("Add suffix", "suffix"),
              ("Find and replace", "replace")]


class CaptionsPanel(w.VBox):
    """Usage (by the page)::

        panel = CaptionsPanel(state, errors, picked=lambda: {1, 2}, busy=lambda: False,
                              on_written=page.load)
        panel.show(plan); panel.edit(3)
    """

    def __init__(self, state: AppState, errors: ErrorBox,
                 picked: Callable[[], set[int] | None], busy: Callable[[], bool],
                 on_written: Callable[[], object]) -> None:
        self.state, self.picked, self.busy, self.on_written = state, picked, busy, on_written
        self.plan: ActorPlan | None = None
        self.index = -1  # the image whose caption is in the editor (-1: none)
        self.pending: bulk_edits.Preview | None = None
        self.title = w.HTML()
        self.title.add_class("ab-captions-title")
        self.editing = w.HTML(h("span", "Preview an image to edit its caption.", cls="ab-hint"))
        self.text = w.Text(placeholder="trigger, pose, framing, expression …",
                           layout=w.Layout(width="60%"), disabled=True)
        self.text.add_class("ab-caption-text")
        self.save_button = w.Button(description="Save caption", disabled=True)
        self.operation = w.Dropdown(options=OPERATIONS, value="draft",
                                    layout=w.Layout(width="160px"))
        self.first = w.Text(placeholder="prefix / suffix / find", layout=w.Layout(width="22%"))
        self.second = w.Text(placeholder="replace with", layout=w.Layout(width="22%"))
        self.preview_button = w.Button(description="Preview changes")
        self.apply_button = w.Button(description="Apply", button_style="warning",
                                     disabled=True)
        self.undo_button = w.Button(description="↶ Undo last bulk edit")
        self.changes = w.HTML()
        self.changes.add_class("ab-caption-changes")
        self.message = w.HTML()
        self.message.add_class("ab-caption-message")
        self.listing = w.HTML()  # every image's caption, its author and its sync state
        self.listing.add_class("ab-caption-list")
        self.all_captions = w.Accordion(children=[self.listing], titles=("All captions",),
                                        selected_index=None)
        super().__init__([self.title, w.HBox([self.editing, self.text, self.save_button]),
                          w.HBox([self.operation, self.first, self.second,
                                  self.preview_button, self.apply_button, self.undo_button]),
                          self.changes, self.message, self.all_captions])
        self.add_class("ab-captions")
        g = guarded(errors)
        self.save_button.on_click(g(self._on_save_click))
        self.preview_button.on_click(g(self._on_preview_click))
        self.apply_button.on_click(g(self._on_apply_click))
        self.undo_button.on_click(g(self._on_undo_click))
        self.operation.observe(g(lambda _: self._forget_preview()), "value")

    @property
    def store(self) -> CaptionStore:
        return CaptionStore(self.state.wb.layout, str(self.state.wb.settings.who))

    # -- what is shown ---------------------------------------------------------------------
    def show(self, plan: ActorPlan | None) -> None:
        """The actor's captions in numbers, from the plan the page shows."""
        self.plan = plan
        if plan is None:
            self.clear()
            return
        actor = self.state.wb.registry.get(plan.actor)
        captions = self.store.read(plan.actor)
        authors = Counter(str(c.author) for c in captions.values())
        states = Counter(c.status.label for c in plan.captions)
        self.title.value = join([
            h("b", "Captions"), " · trigger ", h("code", actor.trigger_word), " · ",
            f"{len(captions)} of {len(plan.changes)} images captioned",
            f" ({authors['person']} by a person, {authors['draft']} drafts)" if captions else "",
            (" · " + ", ".join(f"{n} {s}" for s, n in sorted(states.items()))) if states else ""])
        self.listing.value = captions_html(plan, captions)
        if self.index >= 0:
            self.edit(self.index)

    def clear(self) -> None:
        self.plan, self.index, self.pending = None, -1, None
        self.title.value = self.changes.value = self.message.value = self.listing.value = ""
        self.text.value = ""
        self.text.disabled = self.save_button.disabled = self.apply_button.disabled = True
        self.editing.value = h("span", "Preview an image to edit its caption.", cls="ab-hint")

    def edit(self, index: int) -> None:
        """Put image ``index``'s caption in the editor (the previewed image's)."""
        if self.plan is None:
            return
        self.index = index
        caption = self.store.read(self.plan.actor).get(index)
        self.text.value = caption.text if caption else ""
        self.text.disabled = self.save_button.disabled = False
        self.editing.value = join([h("b", f"#{index}"), " ", _by(caption)])

    # -- actions -----------------------------------------------------------------------------
    def _refuse_while_syncing(self) -> bool:
        if self.busy():
            self.message.value = h("span", "A sync is running: edit captions when it ends.",
                                   cls="ab-hint")
        return self.busy()

    def _on_save_click(self, _: object) -> None:
        if self.plan is None or self.index < 0 or self._refuse_while_syncing():
            return
        saved = self.store.write(self.plan.actor, self.index, self.text.value)
        self.message.value = join([f"Saved the caption of #{saved.index}: ",
                                   h("q", saved.text)])
        self.on_written()

    def _forget_preview(self) -> None:
        self.pending = None
        self.changes.value = ""
        self.apply_button.disabled = True

    def _on_preview_click(self, _: object) -> None:
        """Every change the bulk edit would make to the picked images (all, if none is)."""
        plan = self.plan
        if plan is None:
            return
        chosen = self.picked() or {c.index for c in plan.changes}
        captions = self.store.read(plan.actor)
        op, first, second = self.operation.value, self.first.value, self.second.value
        if op == "draft":
            preview = bulk_edits.preview_drafts(plan.actor, captions, self._drafts(plan), chosen)
        elif op == "prefix":
            preview = bulk_edits.preview_affix(plan.actor, captions, chosen, prefix=first)
        elif op == "suffix":
            preview = bulk_edits.preview_affix(plan.actor, captions, chosen, suffix=first)
        else:
            preview = bulk_edits.preview_replace(plan.actor, captions, chosen, first, second)
        self.pending = preview
        self.changes.value = preview_html(preview)
        self.apply_button.disabled = not preview.changing
        self.message.value = ""

    def _drafts(self, plan: ActorPlan) -> dict[int, str]:
        actor = self.state.wb.registry.get(plan.actor)
        images = {c.index: c.key.rsplit("/", 1)[-1] for c in plan.changes}
        # pose and framing from the face analysis: the grid's face badges analysed these
        # pictures already (cached by content), so this reads the cache
        return drafts_for(images, actor.trigger_word, face_words(self.state.wb.layout),
                          facet_words(actor.facets.ethnicity, actor.facets.gender))

    def _on_apply_click(self, _: object) -> None:
        preview = self.pending
        if preview is None or self._refuse_while_syncing():
            return
        written = bulk_edits.apply(self.store, preview)
        self._forget_preview()
        self.message.value = h("span", f"{preview.describe()}: {len(written)} written. "
                               "Undo takes it back.", cls="ab-caption-done")
        self.on_written()

    def _on_undo_click(self, _: object) -> None:
        if self.plan is None or self._refuse_while_syncing():
            return
        undone = bulk_edits.undo(self.store, self.plan.actor)
        self._forget_preview()
        self.message.value = h("span", undone.describe(), cls="ab-caption-done")
        self.on_written()


def _by(caption: Caption | None) -> Html:
    if caption is None:
        return h("span", "no caption yet", cls="ab-hint")
    who = f" ({caption.who})" if caption.who else ""
    return h("span", f"by {'a draft' if caption.is_draft else 'a person'}{who}",
             cls=f"ab-caption-{caption.author}")


def captions_html(plan: ActorPlan, captions: dict[int, Caption]) -> Html:
    """One row per image: its status, its caption's sync state, who wrote it, the text."""
    sync = {c.index: c for c in plan.captions}
    rows = []
    for c in plan.changes:
        cap, state = captions.get(c.index), sync.get(c.index)
        text = (f"⚠ {cap.problem}" if cap and cap.problem else cap.text if cap else "—")
        rows.append(h("tr", h("td", f"#{c.index}"), h("td", c.status.label),
                      h("td", state.status.label if state else "no caption",
                        cls=f"ab-status-{state.status.value}" if state else "ab-status-none"),
                      h("td", _by(cap)), h("td", text)))
    head = h("tr", *(h("th", t) for t in ("#", "image", "caption", "written", "text")))
    return h("table", head, *rows, cls="ab-table")


def preview_html(preview: bulk_edits.Preview) -> Html:
    """One row per picked image: before → after, or why it is left alone."""
    rows = []
    for e in preview.edits:
        before = e.before.text if e.before else "(none)"
        if e.changes:
            rows.append(h("tr", h("td", f"#{e.index}"), h("td", before), h("td", "→"),
                          h("td", e.after), cls="ab-caption-change"))
        else:
            rows.append(h("tr", h("td", f"#{e.index}"), h("td", before), h("td", ""),
                          h("td", f"left alone: {e.skipped}"), cls="ab-caption-kept"))
    return join([h("div", preview.describe(), cls="ab-hint"), h("table", *rows)])
