"""Sync planning as pure data: compare S3, local files and the last-sync manifest."""

from __future__ import annotations

import enum
import os
import stat
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..storage.base import ObjectInfo
from ..storage.hashing import HashCache
from ..storage.layout import Layout, image_name_re
from .files import (
    Side,
    Unrecognised,
    image_problem,
    is_known_local,
    name_problem,
    not_regular_reason,
    remote_problem,
)
from .manifest import Manifest, ManifestEntry


class ImageStatus(enum.Enum):
    SYNCED = "synced"
    S3_ONLY = "s3_only"
    LOCAL_ONLY = "local_only"
    LOCAL_MODIFIED = "local_modified"
    REMOTE_MODIFIED = "remote_modified"
    CONFLICT = "conflict"
    MISSING = "missing"
    DELETED_LOCAL = "deleted_local"
    DELETED_REMOTE = "deleted_remote"
    INVALID = "invalid"  # not fit to push (``Change.problem`` says why), or not a regular file

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS = {
    ImageStatus.SYNCED: "Local",
    ImageStatus.S3_ONLY: "S3 only",
    ImageStatus.LOCAL_ONLY: "Local only",
    ImageStatus.LOCAL_MODIFIED: "Modified locally",
    ImageStatus.REMOTE_MODIFIED: "Modified in S3",
    ImageStatus.CONFLICT: "Conflict",
    ImageStatus.MISSING: "Missing",
    ImageStatus.DELETED_LOCAL: "Deleted locally",
    ImageStatus.DELETED_REMOTE: "Deleted in S3",
    ImageStatus.INVALID: "Invalid",
}

#: what a pull fetches without being asked twice
PULLABLE = {ImageStatus.S3_ONLY, ImageStatus.REMOTE_MODIFIED, ImageStatus.DELETED_LOCAL}
#: what a push uploads without being asked twice
PUSHABLE = {ImageStatus.LOCAL_ONLY, ImageStatus.LOCAL_MODIFIED}
#: the image's current content is in S3 (what a training reads, what a pull can fetch)
IN_S3 = frozenset({ImageStatus.SYNCED, ImageStatus.S3_ONLY, ImageStatus.REMOTE_MODIFIED,
                   ImageStatus.DELETED_LOCAL})
#: the local content is not in S3 yet: a push owes it (or a conflict must be settled first)
OWED_TO_S3 = frozenset({ImageStatus.LOCAL_ONLY, ImageStatus.LOCAL_MODIFIED,
                        ImageStatus.CONFLICT, ImageStatus.DELETED_REMOTE})


@dataclass(frozen=True)
class LocalFile:
    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Change:
    """One image's state: what is local, what is remote, what was synced last."""

    actor: str
    index: int
    status: ImageStatus
    key: str
    local: LocalFile | None = None
    remote: ObjectInfo | None = None
    base: ManifestEntry | None = None
    problem: str = ""  # why it is INVALID
    compared: ImageStatus | None = None  # what content comparison says, when INVALID stands in

    @property
    def size(self) -> int:
        if self.remote is not None:
            return self.remote.size
        return self.local.size if self.local else 0


def in_s3(change: Change) -> bool:
    """The image's content is in S3; an INVALID one is judged by what comparison said."""
    return change.remote is not None and (change.compared or change.status) in IN_S3


def owed_to_s3(change: Change) -> bool:
    """The local content is not in S3 yet (judged like ``in_s3``)."""
    return (change.compared or change.status) in OWED_TO_S3


@dataclass
class ActorPlan:
    actor: str
    changes: list[Change] = field(default_factory=list)
    unrecognised: list[Unrecognised] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. a bad entry of response.json

    def counts(self) -> dict[str, int]:
        c = Counter(ch.status.value for ch in self.changes)
        return {s.value: c.get(s.value, 0) for s in ImageStatus}

    def by_status(self, *statuses: ImageStatus) -> list[Change]:
        return [c for c in self.changes if c.status in statuses]

    def select(self, only: set[int] | None) -> ActorPlan:
        if only is None:
            return self
        return ActorPlan(self.actor, [c for c in self.changes if c.index in only],
                         self.unrecognised)

    @property
    def local_bytes(self) -> int:
        return sum(c.local.size for c in self.changes if c.local)

    @property
    def remote_bytes(self) -> int:
        return sum(c.remote.size for c in self.changes if c.remote)


def scan_local(layout: Layout, actor: str
               ) -> tuple[dict[int, LocalFile], dict[int, str], list[Unrecognised]]:
    """Images (regular files named ``{actor}_{i}.png``); image names held by something else,
    with why (a symlink, fifo or folder is never followed, hashed or replaced); and every
    other unexpected entry of training_data/."""
    images: dict[int, LocalFile] = {}
    blocked: dict[int, str] = {}
    other: list[Unrecognised] = []
    pat = image_name_re(actor)
    try:
        entries = list(os.scandir(layout.training_dir(actor)))
    except (FileNotFoundError, NotADirectoryError):
        return images, blocked, other
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        m = pat.match(entry.name)
        if stat.S_ISREG(st.st_mode):
            if m:
                images[int(m.group(1))] = LocalFile(Path(entry.path), st.st_size, st.st_mtime_ns)
            elif not is_known_local(actor, entry.name):
                other.append(Unrecognised(Side.LOCAL, entry.name, name_problem(actor, entry.name)))
        elif m:
            blocked[int(m.group(1))] = not_regular_reason(st.st_mode)
        else:
            other.append(Unrecognised(Side.LOCAL, entry.name, not_regular_reason(st.st_mode)))
    return images, blocked, other


def classify(local: LocalFile | None, remote: ObjectInfo | None, base: ManifestEntry | None,
             hashes: HashCache) -> ImageStatus:
    """The rule: decide by content (MD5 vs ETag), never by mtime or size alone."""

    def local_changed() -> bool:
        assert local is not None
        if base is None:
            return True
        if local.size == base.size and local.mtime_ns == base.mtime_ns:
            return False
        return hashes.md5(local.path) != base.md5

    def remote_changed() -> bool:
        assert remote is not None
        return base is None or remote.etag != base.etag

    if local and remote:
        if not remote_changed() and not local_changed():
            return ImageStatus.SYNCED
        if hashes.etag_matches(local.path, remote.etag):
            return ImageStatus.SYNCED
        if base is None:
            return ImageStatus.CONFLICT  # both exist, differ, and no common ancestor to judge by
        lc, rc = local_changed(), remote_changed()
        if lc and not rc:
            return ImageStatus.LOCAL_MODIFIED
        if rc and not lc:
            return ImageStatus.REMOTE_MODIFIED
        return ImageStatus.CONFLICT
    if local:
        if base is None:
            return ImageStatus.LOCAL_ONLY
        return ImageStatus.DELETED_REMOTE if not local_changed() else ImageStatus.CONFLICT
    if remote:
        if base is None:
            return ImageStatus.S3_ONLY
        return ImageStatus.DELETED_LOCAL if not remote_changed() else ImageStatus.S3_ONLY
    return ImageStatus.MISSING


def plan_actor(layout: Layout, actor: str, remote: Iterable[ObjectInfo], manifest: Manifest,
               listed_indices: Iterable[int] = (), hashes: HashCache | None = None) -> ActorPlan:
    """Classify every image of ``actor``; ``remote`` is the listing of its prefix.

    ``hashes`` given: the caller owns the cache and saves it (a sync saves it with its batch).
    """
    own = hashes is None
    hashes = hashes or HashCache(layout.hash_cache_path(actor))
    local, blocked, unrecognised = scan_local(layout, actor)
    remote_by_idx: dict[int, ObjectInfo] = {}
    prefix = layout.actor_prefix(actor)
    for info in remote:
        parsed = layout.parse_image_key(info.key)
        if parsed and parsed[0] == actor:
            remote_by_idx[parsed[1]] = info
        elif why := remote_problem(actor, info.key.removeprefix(prefix)):
            unrecognised.append(Unrecognised(Side.S3, info.key.removeprefix(prefix), why))
    listed = set(listed_indices)
    indices = sorted(set(local) | set(remote_by_idx) | set(manifest.entries) | listed
                     | set(blocked))
    plan = ActorPlan(actor, unrecognised=sorted(unrecognised, key=lambda u: (u.where, u.name)))
    for i in indices:
        lf, ro, base = local.get(i), remote_by_idx.get(i), manifest.entries.get(i)
        if lf is None and ro is None and i not in listed and i not in blocked:
            continue  # in the manifest only: deleted on both sides, nothing to show
        status = classify(lf, ro, base, hashes)
        problem = blocked.get(i, "")
        if lf is not None and status in PUSHABLE:  # only what a push would upload is opened
            problem = hashes.checked(lf.path, lf.size, lf.mtime_ns, image_problem)
        change = Change(actor, i, status, layout.image_key(actor, i), lf, ro, base)
        if problem:
            change = replace(change, status=ImageStatus.INVALID, problem=problem,
                             compared=status)
        plan.changes.append(change)
    if own:
        hashes.save()
    return plan
