"""Captions on disk: ``{actor}_{i}.txt`` beside the images, provenance in a sidecar.

The ``.txt`` holds only the caption (every trainer reads it as it is). Who wrote it and when
is kept in ``actors/{actor}/.captions.json``, outside training_data/ (which is synced and read
by trainers), with the MD5 of the text it describes: a caption changed by anyone else (a text
editor, a teammate's caption arriving with a pull) no longer matches and counts as written by
a person, so a draft can never replace it.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..clock import now_iso
from ..errors import ActorbenchError, UnsafePathError
from ..fsutil import atomic_write_bytes, atomic_write_json, dir_lock, open_regular
from ..storage.layout import Layout, caption_name_re
from ..sync.files import MAX_CAPTION_BYTES, text_problem
from .model import Author, Caption, normalise


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class CaptionStore:
    """Read and write one library's captions.

    Usage::

        store = CaptionStore(layout, who="alice@studio-3")
        store.write("0002_european_35_female", 3, "zqkvtm, smiling, outdoors")
        store.read("0002_european_35_female")[3].author   # Author.PERSON
    """

    def __init__(self, layout: Layout, who: str = "") -> None:
        self.layout, self.who = layout, who

    # -- reading -------------------------------------------------------------------------
    def read(self, actor: str) -> dict[int, Caption]:
        """Every caption file of ``actor`` (regular files named canonically), by index."""
        folder = self.layout.training_dir(actor)
        pat = caption_name_re(actor)
        record = self._record(actor)
        out: dict[int, Caption] = {}
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return out
        for entry in entries:
            m = pat.match(entry.name)
            if m is None:
                continue
            index = int(m.group(1))
            out[index] = self._caption(index, entry.path, record.get(str(index)))
        return dict(sorted(out.items()))

    def _caption(self, index: int, path: str, rec: Any) -> Caption:
        try:
            with open_regular(Path(path)) as fh:
                raw = fh.read(MAX_CAPTION_BYTES + 1)
                mtime = os.fstat(fh.fileno()).st_mtime
        except (UnsafePathError, OSError) as exc:
            return Caption(index, "", problem=str(exc).split(": ", 1)[-1].rstrip("."))
        if problem := text_problem(raw):
            return Caption(index, "", problem=problem)
        text = raw.decode("utf-8")
        if isinstance(rec, dict) and rec.get("md5") == _md5(raw) \
                and rec.get("author") in tuple(Author):
            return Caption(index, text, Author(rec["author"]), _text(rec.get("at")),
                           _text(rec.get("who")))
        # changed since actorbench wrote it, or never written here: a person's, as of its mtime
        at = datetime.fromtimestamp(mtime, UTC).isoformat(timespec="seconds")
        return Caption(index, text, Author.PERSON, at, None)

    def _record(self, actor: str) -> dict[str, Any]:
        """The provenance record; a missing or damaged one means "written by a person"."""
        try:
            raw = json.loads(self.layout.captions_record(actor).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        captions = raw.get("captions") if isinstance(raw, dict) else None
        return captions if isinstance(captions, dict) else {}

    # -- writing -------------------------------------------------------------------------
    def write(self, actor: str, index: int, text: str, author: Author = Author.PERSON
              ) -> Caption:
        """Save image ``index``'s caption (normalised to one line) and who wrote it.

        A draft never replaces a person's caption (``ActorbenchError``); a caption that is
        not fit to sync or train (too long, control characters) is refused, nothing written.
        """
        text = normalise(text)
        data = text.encode("utf-8")
        if problem := text_problem(data):
            raise ActorbenchError(f"{actor} image {index}: {problem}; nothing was written.")
        path = self.layout.caption_path(actor, index)
        with self._lock(actor):
            if author is Author.DRAFT:
                current = self.read(actor).get(index)
                if current is not None and not current.is_draft:
                    raise ActorbenchError(
                        f"{actor} image {index}: the caption was written by a person; a "
                        "draft never replaces it.")
            _refuse_non_file(path)
            atomic_write_bytes(path, data)
            at = now_iso()
            self._update_record(actor, {index: {"author": str(author), "at": at,
                                                "who": self.who or None, "md5": _md5(data)}})
        return Caption(index, text, author, at, self.who or None)

    def remove(self, actor: str, index: int) -> None:
        """Delete image ``index``'s caption file and its record (the undo of a first write)."""
        path = self.layout.caption_path(actor, index)
        with self._lock(actor):
            _refuse_non_file(path)
            path.unlink(missing_ok=True)
            self._update_record(actor, {index: None})

    def restore(self, actor: str, caption: Caption) -> None:
        """Put back a caption as it was, provenance included (the undo of an edit)."""
        data = caption.text.encode("utf-8")
        path = self.layout.caption_path(actor, caption.index)
        with self._lock(actor):
            _refuse_non_file(path)
            atomic_write_bytes(path, data)
            self._update_record(actor, {caption.index: {
                "author": str(caption.author), "at": caption.at, "who": caption.who,
                "md5": _md5(data)}})

    def _lock(self, actor: str) -> Any:
        """The actor's lock, the one a sync holds: a caption is never written while a sync
        of the actor plans, moves or cleans its temp files."""
        return dir_lock(self.layout.actor_dir(actor), timeout=60.0, what=f"actor {actor}")

    def _update_record(self, actor: str, changes: dict[int, dict[str, Any] | None]) -> None:
        captions = self._record(actor)
        for index, rec in changes.items():
            if rec is None:
                captions.pop(str(index), None)
            else:
                captions[str(index)] = rec
        atomic_write_json(self.layout.captions_record(actor), {
            "version": 1, "captions": dict(sorted(captions.items(), key=lambda kv: int(kv[0])
                                                  if kv[0].isdigit() else -1))})


def _refuse_non_file(path: Any) -> None:
    """A caption's name held by a symlink, fifo or folder is never written through or over."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise ActorbenchError(f"{path.name} is not a regular file; it was left as it is.")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
