"""Captions of one library, the parts wired together for the CLI, the notebook and the page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..actors.registry import Registry
from ..errors import ActorbenchError
from ..sync.engine import SyncEngine
from ..sync.plan import ActorPlan
from . import bulk
from .drafts import Describe, drafts_for
from .model import Caption
from .overview import CaptionRow, caption_rows
from .store import CaptionStore
from .traits import facet_words


@dataclass(frozen=True)
class CaptionTable:
    """An actor's images with their captions and drafts, and its trigger word."""

    actor: str
    trigger: str
    rows: list[CaptionRow]
    problems: list[str]  # a describer that failed for an image (its draft is plain)
    #: caption files that caption no image, or are not named canonically: never synced
    unrecognised: list[dict[str, str]] = field(default_factory=list)


class CaptionService:
    """Usage::

        svc = CaptionService(wb.registry, wb.engine, CaptionStore(wb.layout, "alice"))
        table = svc.table("0002")
        preview = svc.preview_drafts("0002")      # nothing written yet
        svc.apply(preview); svc.undo("0002")
    """

    def __init__(self, registry: Registry, engine: SyncEngine, store: CaptionStore,
                 describe: Describe | None = None) -> None:
        self.registry, self.engine, self.store = registry, engine, store
        self.describe = describe

    def _plan(self, name: str) -> ActorPlan:
        return self.engine.plan([name])[name]

    def drafts(self, name: str, plan: ActorPlan, problems: list[str] | None = None
               ) -> dict[int, str]:
        actor = self.registry.get(name)
        images = {c.index: c.key.rsplit("/", 1)[-1] for c in plan.changes}
        return drafts_for(images, actor.trigger_word, self.describe,
                          facet_words(actor.facets.ethnicity, actor.facets.gender), problems)

    def table(self, ref: str) -> CaptionTable:
        actor = self.registry.get(ref)
        plan = self._plan(actor.name)
        problems: list[str] = []
        drafts = self.drafts(actor.name, plan, problems)
        stray = [u.to_json() for u in plan.unrecognised if u.name.endswith(".txt")]
        return CaptionTable(actor.name, actor.trigger_word,
                            caption_rows(plan, self.store.read(actor.name), drafts), problems,
                            stray)

    def preview_drafts(self, ref: str, only: Iterable[int] | None = None) -> bulk.Preview:
        """Drafts for the chosen images (all by default); a person's caption is left alone."""
        name = self.registry.get(ref).name
        plan = self._plan(name)
        drafts = self.drafts(name, plan)
        chosen = list(only) if only is not None else [c.index for c in plan.changes]
        return bulk.preview_drafts(name, self.store.read(name), drafts, chosen)

    def preview_set(self, ref: str, index: int, text: str) -> bulk.Preview:
        """One caption as typed; the image must exist here or in S3."""
        name = self.registry.get(ref).name
        plan = self._plan(name)
        if index not in {c.index for c in plan.changes if c.local or c.remote}:
            raise ActorbenchError(f"{name} has no image {index} here or in S3: a caption "
                                  "needs its image.")
        return bulk.preview_set(name, self.store.read(name), index, text)

    def read(self, ref: str) -> dict[int, Caption]:
        return self.store.read(self.registry.get(ref).name)

    def apply(self, preview: bulk.Preview) -> list[Caption]:
        return bulk.apply(self.store, preview)

    def undo(self, ref: str) -> bulk.Undone:
        return bulk.undo(self.store, self.registry.get(ref).name)
