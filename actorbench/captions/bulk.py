"""Bulk caption edits: pure previews of every change, then an apply with one-step undo.

Each ``preview_*`` is a pure function of the captions as read and returns a :class:`Preview`:
one :class:`Edit` per selected image, with the text before and after, or why it is left alone
(a person's caption is never replaced by a draft). :func:`apply` writes the changing edits and
keeps what they replaced; :func:`undo` puts it back, except where a caption changed again since.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import ActorbenchError
from ..fsutil import atomic_write_json
from ..sync.files import text_problem
from .model import Author, Caption, normalise
from .store import CaptionStore


@dataclass(frozen=True)
class Edit:
    """One image's caption, before and after; ``skipped`` says why it does not change."""

    index: int
    before: Caption | None
    after: str
    author: Author = Author.PERSON
    skipped: str = ""

    @property
    def changes(self) -> bool:
        return not self.skipped

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "before": self.before.text if self.before else None,
                "after": self.after, "author": str(self.author),
                **({"skipped": self.skipped} if self.skipped else {})}


@dataclass(frozen=True)
class Preview:
    """Every change a bulk edit would make to one actor's captions, before anything is written."""

    actor: str
    operation: str
    edits: tuple[Edit, ...]

    @property
    def changing(self) -> list[Edit]:
        return [e for e in self.edits if e.changes]

    @property
    def skipped(self) -> list[Edit]:
        return [e for e in self.edits if not e.changes]

    def describe(self) -> str:
        """``"apply draft: 5 captions change, 1 left alone"``."""
        n, k = len(self.changing), len(self.skipped)
        out = f"{self.operation}: {n} caption{'s' if n != 1 else ''} change"
        return out + (f", {k} left alone" if k else "")


def _edit(index: int, before: Caption | None, after: str, author: Author) -> Edit:
    after = normalise(after)
    if before is not None and before.text == after and before.author is author:
        return Edit(index, before, after, author, "unchanged")
    if problem := text_problem(after.encode("utf-8")):
        return Edit(index, before, after, author, problem)
    return Edit(index, before, after, author)


def preview_drafts(actor: str, captions: dict[int, Caption], drafts: dict[int, str],
                   selection: Iterable[int]) -> Preview:
    """Drafts for the selected images; a caption a person wrote is left alone."""
    edits = []
    for i in sorted(set(selection)):
        before = captions.get(i)
        if i not in drafts:
            edits.append(Edit(i, before, before.text if before else "", Author.DRAFT,
                              "no image"))
        elif before is not None and not before.is_draft:
            edits.append(Edit(i, before, before.text, Author.PERSON,
                              "written by a person: a draft never replaces it"))
        else:
            edits.append(_edit(i, before, drafts[i], Author.DRAFT))
    return Preview(actor, "apply draft", tuple(edits))


def preview_affix(actor: str, captions: dict[int, Caption], selection: Iterable[int],
                  prefix: str = "", suffix: str = "") -> Preview:
    """``prefix`` before and ``suffix`` after each selected caption (as typed: include the
    ``", "`` you want); an image without a caption is left alone."""
    edits = []
    for i in sorted(set(selection)):
        before = captions.get(i)
        if before is None or before.problem:
            edits.append(Edit(i, before, "", Author.PERSON,
                              before.problem if before else "no caption yet"))
            continue
        edits.append(_edit(i, before, f"{prefix}{before.text}{suffix}", Author.PERSON))
    return Preview(actor, "prefix/suffix", tuple(edits))


def preview_replace(actor: str, captions: dict[int, Caption], selection: Iterable[int],
                    find: str, replace: str) -> Preview:
    """``find`` replaced by ``replace`` (plain text, case-sensitive) in each selected caption."""
    if not find:
        raise ActorbenchError("Find what? The text to find is empty.")
    edits = []
    for i in sorted(set(selection)):
        before = captions.get(i)
        if before is None or before.problem:
            edits.append(Edit(i, before, "", Author.PERSON,
                              before.problem if before else "no caption yet"))
        elif find not in before.text:
            edits.append(Edit(i, before, before.text, before.author, f"no {find!r} in it"))
        else:
            edits.append(_edit(i, before, before.text.replace(find, replace), Author.PERSON))
    return Preview(actor, "find and replace", tuple(edits))


def preview_set(actor: str, captions: dict[int, Caption], index: int, text: str) -> Preview:
    """One caption, as a person typed it."""
    return Preview(actor, "edit", (_edit(index, captions.get(index), text, Author.PERSON),))


# -- applying and undoing ----------------------------------------------------------------------
def apply(store: CaptionStore, preview: Preview) -> list[Caption]:
    """Write the preview's changing edits; what they replace is kept for :func:`undo` (the
    record is written first: a run cut short can still be undone)."""
    changing = preview.changing
    if not changing:
        return []
    undo_path = store.layout.actor_dir(preview.actor) / ".captions-undo.json"
    atomic_write_json(undo_path, {"version": 1, "operation": preview.operation, "edits": [
        {"index": e.index, "after": e.after,
         "before": None if e.before is None else {
             "text": e.before.text, "author": str(e.before.author), "at": e.before.at,
             "who": e.before.who}} for e in changing]})
    return [store.write(preview.actor, e.index, e.after, e.author) for e in changing]


@dataclass(frozen=True)
class Undone:
    operation: str
    restored: tuple[int, ...]
    kept: tuple[int, ...]  # changed again since the bulk edit: left as they are now

    def describe(self) -> str:
        out = f"undid {self.operation}: {len(self.restored)} restored"
        return out + (f", {len(self.kept)} changed since and kept (images "
                      f"{', '.join(map(str, self.kept))})" if self.kept else "")


def undo(store: CaptionStore, actor: str) -> Undone:
    """Undo the last bulk edit of ``actor`` (once); a caption changed since is kept as it is."""
    undo_path = store.layout.actor_dir(actor) / ".captions-undo.json"
    try:
        record = json.loads(undo_path.read_text(encoding="utf-8"))
        edits = record["edits"]
        operation = str(record.get("operation", "the last edit"))
    except FileNotFoundError:
        raise ActorbenchError(f"{actor}: no bulk edit to undo.") from None
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ActorbenchError(f"{undo_path}: the undo record cannot be read ({exc}); "
                              "nothing was changed.") from None
    now = store.read(actor)
    restored, kept = [], []
    for e in edits:
        index = int(e["index"])
        current = now.get(index)
        if current is None or current.text != e["after"]:
            kept.append(index)
            continue
        before = e.get("before")
        if before is None:
            store.remove(actor, index)
        else:
            author = before.get("author")
            store.restore(actor, Caption(index, str(before["text"]),
                                         Author(author) if author in tuple(Author)
                                         else Author.PERSON, before.get("at"),
                                         before.get("who")))
        restored.append(index)
    undo_path.unlink(missing_ok=True)
    return Undone(operation, tuple(restored), tuple(kept))
