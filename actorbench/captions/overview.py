"""Captions beside their images: one row per image, and what a training job carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..sync.files import MAX_CAPTION_CHARS
from ..sync.plan import ActorPlan
from .model import PLAIN, Caption, with_trigger_first


@dataclass(frozen=True)
class CaptionRow:
    """An image, its caption (None: no file), the caption's sync state and its draft."""

    index: int
    image_status: str
    caption: Caption | None
    caption_status: str  # the caption file's sync status, or "none"
    draft: str

    def to_json(self) -> dict[str, Any]:
        c = self.caption
        return {"index": self.index, "image_status": self.image_status,
                "caption": c.text if c else None,
                "author": str(c.author) if c else None, "at": c.at if c else None,
                "who": c.who if c else None, "problem": c.problem if c else "",
                "caption_status": self.caption_status, "draft": self.draft}


def caption_rows(plan: ActorPlan, captions: dict[int, Caption], drafts: dict[int, str]
                 ) -> list[CaptionRow]:
    """One row per image of ``plan`` (captions of images that exist nowhere are the plan's
    ``unrecognised``)."""
    sync = {c.index: c.status.value for c in plan.captions}
    return [CaptionRow(c.index, c.status.value, captions.get(c.index),
                       sync.get(c.index, "none"), drafts.get(c.index, ""))
            for c in plan.changes]


#: what a carried caption's source says when its last tags were cut to fit the contract
SHORTENED = "shortened to fit"


@dataclass(frozen=True)
class Carried:
    """The caption a job sends for one image, and where it comes from."""

    index: int
    text: str  # as sent: the trigger first
    source: str  # "person", "draft" (a saved draft), or "draft (no caption)" and the like

    @property
    def written(self) -> bool:
        return self.source.split(",")[0] in ("person", "draft")


def carried(indices: list[int], captions: dict[int, Caption], drafts: dict[int, str],
            trigger: str) -> dict[int, Carried]:
    """What the job carries per image: its caption with the trigger put first; the draft
    where there is no caption or it cannot be used; the trigger alone for an empty one."""
    out: dict[int, Carried] = {}
    for i in indices:
        c = captions.get(i)
        draft = drafts.get(i) or f"{trigger}, {PLAIN}"
        if c is None:
            out[i] = Carried(i, with_trigger_first(draft, trigger), "draft (no caption)")
        elif c.problem:
            out[i] = Carried(i, with_trigger_first(draft, trigger), f"draft ({c.problem})")
        else:
            out[i] = Carried(i, with_trigger_first(c.text, trigger), str(c.author))
        if len(out[i].text) > MAX_CAPTION_CHARS:  # the trigger put first made it too long
            cut = out[i].text[:MAX_CAPTION_CHARS].rsplit(", ", 1)[0]
            out[i] = Carried(i, cut, f"{out[i].source}, {SHORTENED}")
    return out


def plain_only(sent: dict[int, Carried], trigger: str) -> bool:
    """Every image carries ``"{trigger}, photo"``: what an ``actorbench.lora/1`` job means."""
    return all(c.text == f"{trigger}, {PLAIN}" for c in sent.values())
