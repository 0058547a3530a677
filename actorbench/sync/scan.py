"""What training_data/ holds: images, captions, and everything else, in one scandir."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UnsafePathError
from ..storage.layout import Layout, caption_name_re, image_name_re
from .files import Side, Unrecognised, is_known_local, name_problem, not_regular_reason


@dataclass(frozen=True)
class LocalFile:
    path: Path
    size: int
    mtime_ns: int


@dataclass
class LocalScan:
    """What training_data/ holds, by kind."""

    images: dict[int, LocalFile] = field(default_factory=dict)
    blocked: dict[int, str] = field(default_factory=dict)  # image names held by a non-file
    captions: dict[int, LocalFile] = field(default_factory=dict)
    blocked_captions: dict[int, str] = field(default_factory=dict)
    other: list[Unrecognised] = field(default_factory=list)


def scan_folder(layout: Layout, actor: str) -> LocalScan:
    """One pass over training_data/: images, captions (``{actor}_{i}.txt``), names held by
    something that is not a regular file, and every other unexpected entry."""
    scan = LocalScan()
    pat, cpat = image_name_re(actor), caption_name_re(actor)
    for folder in (layout.actor_dir(actor), layout.training_dir(actor)):
        if folder.is_symlink():  # its images would be another folder's: pushed or overwritten
            raise UnsafePathError(f"{folder} is a symbolic link: actorbench does not follow "
                                  "it (make it a real folder inside the data folder).")
    try:
        entries = list(os.scandir(layout.training_dir(actor)))
    except (FileNotFoundError, NotADirectoryError):
        return scan
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        m = pat.match(entry.name)
        files, blocked = scan.images, scan.blocked
        if m is None and (m := cpat.match(entry.name)) is not None:
            files, blocked = scan.captions, scan.blocked_captions
        if stat.S_ISREG(st.st_mode):
            if m:
                files[int(m.group(1))] = LocalFile(Path(entry.path), st.st_size, st.st_mtime_ns)
            elif not is_known_local(actor, entry.name):
                scan.other.append(Unrecognised(Side.LOCAL, entry.name,
                                               name_problem(actor, entry.name)))
        elif m:
            blocked[int(m.group(1))] = not_regular_reason(st.st_mode)
        else:
            scan.other.append(Unrecognised(Side.LOCAL, entry.name, not_regular_reason(st.st_mode)))
    return scan
