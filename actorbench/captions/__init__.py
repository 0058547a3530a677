"""Captions: ``{actor}_{i}.txt`` beside each image, who wrote it, drafts and bulk edits.

No HTML and no widgets: the CLI, the notebook and the dashboard present these values.
Face analysis is an input (:class:`Describe`), never an import.
"""

from .bulk import (
    Edit,
    Preview,
    Undone,
    apply,
    preview_affix,
    preview_drafts,
    preview_replace,
    preview_set,
    undo,
)
from .drafts import Describe, draft_caption, drafts_for
from .model import PLAIN, Author, Caption, has_trigger, normalise, split_tags, with_trigger_first
from .overview import CaptionRow, Carried, caption_rows, carried, plain_only
from .store import CaptionStore
from .traits import facet_words, fixed_trait_phrases, names_fixed_trait

__all__ = ["PLAIN", "Author", "Caption", "CaptionRow", "CaptionStore", "Carried", "Describe",
           "Edit", "Preview", "Undone", "apply", "caption_rows", "carried", "draft_caption",
           "drafts_for", "facet_words", "fixed_trait_phrases", "has_trigger", "names_fixed_trait",
           "normalise", "plain_only", "preview_affix", "preview_drafts", "preview_replace",
           "preview_set", "split_tags", "undo", "with_trigger_first"]
