"""Draft captions, built offline: the trigger word first, then what varies in the image.

What varies comes from a :class:`Describe` callable (the face analysis gives pose and framing,
e.g. ``["three-quarter view", "head and shoulders"]``); captions never depends on it being
there: without one, a draft is ``"{trigger}, photo"``, what the worker always wrote.

Drafts leave the actor's fixed traits out on purpose (``traits``): ethnicity, age and gender
are the identity the trigger must absorb, so a word naming one is dropped even when a
describer offers it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from ..sync.files import MAX_CAPTION_CHARS
from .model import PLAIN, normalise
from .traits import names_fixed_trait


class Describe(Protocol):
    """Words for what varies in one image (pose bin, framing, scene), by its file name.

    Usage::

        def describe(image_name: str) -> list[str]:
            return ["three-quarter view", "head and shoulders"]
    """

    def __call__(self, image_name: str) -> Sequence[str]: ...


def draft_caption(trigger: str, words: Iterable[str] = (), extra_traits: Iterable[str] = ()
                  ) -> str:
    """``"{trigger}, word, word"``; words naming a fixed trait, blanks, repeats and anything
    not plain printable text are dropped, commas inside a word become spaces;
    ``"{trigger}, photo"`` when nothing is left. The draft is cut to the contract's length."""
    extra = list(extra_traits)
    kept: list[str] = []
    for w in words:
        if not isinstance(w, str):
            continue
        w = normalise(w.replace(",", " "))
        seen = {k.lower() for k in kept} | {trigger.lower()}
        if w and w.isprintable() and len(w) <= 100 and w.lower() not in seen \
                and not names_fixed_trait(w, extra):
            kept.append(w)
    out = trigger
    for w in kept or [PLAIN]:
        if len(out) + 2 + len(w) > MAX_CAPTION_CHARS:
            break
        out += ", " + w
    return out


def drafts_for(image_names: dict[int, str], trigger: str, describe: Describe | None = None,
               extra_traits: Iterable[str] = (), problems: list[str] | None = None
               ) -> dict[int, str]:
    """A draft per image index; a describer that fails for one image gives it the plain draft
    (a draft is a suggestion: it never stops the others) and says why in ``problems``."""
    extra = list(extra_traits)
    out: dict[int, str] = {}
    for index, name in sorted(image_names.items()):
        words: Sequence[str] = ()
        if describe is not None:
            try:
                got = describe(name)
                words = list(got) if isinstance(got, (list, tuple)) else ()
            except Exception as exc:  # an analysis that fails leaves the plain draft
                if problems is not None:
                    problems.append(f"{name}: no description ({type(exc).__name__}: {exc})")
        out[index] = draft_caption(trigger, words, extra)
    return out
