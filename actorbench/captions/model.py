"""A caption as data: its text, who wrote it (a draft or a person) and when."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

#: the caption an image gets when nobody wrote one and nothing is known about it: what the
#: reference worker wrote for every image before captions existed (``actorbench.lora/1``)
PLAIN = "photo"


class Author(enum.StrEnum):
    """Who wrote a caption: actorbench's draft, or a person (drafts never replace these)."""

    DRAFT = "draft"
    PERSON = "person"


@dataclass(frozen=True)
class Caption:
    """The caption of image ``index``: ``{actor}_{index}.txt``, with its provenance.

    ``problem`` says why the file cannot be used (not UTF-8, too long); ``text`` is then "".
    """

    index: int
    text: str
    author: Author = Author.PERSON
    at: str | None = None  # when it was written (ISO 8601, UTC)
    who: str | None = None  # the user who saved it, when actorbench saved it
    problem: str = ""

    @property
    def is_draft(self) -> bool:
        return self.author is Author.DRAFT


def normalise(text: str) -> str:
    """One line, single spaces, no space before a comma: how a caption is stored."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+,", ",", text)


def split_tags(text: str) -> list[str]:
    """``"zqkvtm, three-quarter view, smiling"`` -> its comma-separated tags."""
    return [t.strip() for t in text.split(",") if t.strip()]


def has_trigger(text: str, trigger: str) -> bool:
    """The trigger appears as a whole word (case-insensitive) anywhere in the caption."""
    return re.search(rf"(?<!\w){re.escape(trigger)}(?!\w)", text, re.IGNORECASE) is not None


def with_trigger_first(text: str, trigger: str) -> str:
    """The caption as the trainer gets it: the trigger as the first tag (moved there, or
    inserted), so ``--keep_tokens=1`` keeps it in place when tags are shuffled."""
    tags = [t for t in split_tags(normalise(text)) if t.lower() != trigger.lower()]
    if tags and has_trigger(tags[0], trigger) and tags[0].lower().startswith(trigger.lower()):
        return ", ".join(tags)
    return ", ".join([trigger, *tags])
