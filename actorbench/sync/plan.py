"""Sync planning as pure data: compare S3, local files and the last-sync manifest."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from ..storage.base import ObjectInfo
from ..storage.hashing import HashCache
from ..storage.layout import Layout, caption_name_re
from .files import (
    Side,
    Unrecognised,
    caption_problem,
    image_problem,
    orphan_caption_reason,
    remote_problem,
)
from .manifest import Manifest, ManifestEntry
from .scan import LocalFile, LocalScan, scan_folder


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


class FileKind(enum.StrEnum):
    """What a synced file is: a training image, or the caption beside it."""

    IMAGE = "image"
    CAPTION = "caption"


@dataclass(frozen=True)
class Change:
    """One image's (or its caption's) state: what is local, what is remote, what was synced
    last. A caption is decided by the same rules as an image (``kind`` tells them apart)."""

    actor: str
    index: int
    status: ImageStatus
    key: str
    local: LocalFile | None = None
    remote: ObjectInfo | None = None
    base: ManifestEntry | None = None
    problem: str = ""  # why it is INVALID
    compared: ImageStatus | None = None  # what content comparison says, when INVALID stands in
    kind: FileKind = FileKind.IMAGE

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
    """Every image of an actor (``changes``) and every caption of an image that exists on
    either side (``captions``, apart so that image counts stay image counts)."""

    actor: str
    changes: list[Change] = field(default_factory=list)
    unrecognised: list[Unrecognised] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. a bad entry of response.json
    captions: list[Change] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        c = Counter(ch.status.value for ch in self.changes)
        return {s.value: c.get(s.value, 0) for s in ImageStatus}

    def by_status(self, *statuses: ImageStatus) -> list[Change]:
        return [c for c in self.changes if c.status in statuses]

    def select(self, only: set[int] | None) -> ActorPlan:
        if only is None:
            return self
        return ActorPlan(self.actor, [c for c in self.changes if c.index in only],
                         self.unrecognised,
                         captions=[c for c in self.captions if c.index in only])

    def caption_of(self, index: int) -> Change | None:
        """The caption's state for image ``index`` (None: no caption on either side)."""
        return next((c for c in self.captions if c.index == index), None)

    @property
    def local_bytes(self) -> int:
        return sum(c.local.size for c in self.changes if c.local)

    @property
    def remote_bytes(self) -> int:
        return sum(c.remote.size for c in self.changes if c.remote)


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
    scan = scan_folder(layout, actor)
    local, blocked, unrecognised = scan.images, scan.blocked, scan.other
    remote_by_idx: dict[int, ObjectInfo] = {}
    remote_captions: dict[int, ObjectInfo] = {}
    prefix = layout.actor_prefix(actor)
    cpat = caption_name_re(actor)
    for info in remote:
        parsed = layout.parse_image_key(info.key)
        rest = info.key.removeprefix(prefix)
        if parsed and parsed[0] == actor:
            remote_by_idx[parsed[1]] = info
        elif info.key.startswith(prefix) and (m := cpat.match(rest)):
            remote_captions[int(m.group(1))] = info
        elif why := remote_problem(actor, rest):
            unrecognised.append(Unrecognised(Side.S3, rest, why))
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
    _plan_captions(layout, actor, plan, scan, remote_captions, manifest, hashes,
                   exists=set(local) | set(remote_by_idx) | set(blocked))
    plan.unrecognised.sort(key=lambda u: (u.where, u.name))
    if own:
        hashes.save()
    return plan


def _plan_captions(layout: Layout, actor: str, plan: ActorPlan, scan: LocalScan,
                   remote: dict[int, ObjectInfo], manifest: Manifest, hashes: HashCache,
                   exists: set[int]) -> None:
    """Captions by the images' rules; one whose image is on neither side is reported (as
    unrecognised, on each side that holds it), never synced: it would caption nothing."""
    indices = sorted(set(scan.captions) | set(remote) | set(scan.blocked_captions))
    for i in indices:
        lf, ro, base = scan.captions.get(i), remote.get(i), manifest.captions.get(i)
        if i not in exists:
            name = layout.caption_path(actor, i).name
            if lf is not None or i in scan.blocked_captions:
                plan.unrecognised.append(Unrecognised(Side.LOCAL, name, orphan_caption_reason(i)))
            if ro is not None:
                plan.unrecognised.append(Unrecognised(Side.S3, name, orphan_caption_reason(i)))
            continue
        status = classify(lf, ro, base, hashes)
        problem = scan.blocked_captions.get(i, "")
        if lf is not None and status in PUSHABLE:
            problem = hashes.checked(lf.path, lf.size, lf.mtime_ns, caption_problem)
        change = Change(actor, i, status, layout.caption_key(actor, i), lf, ro, base,
                        kind=FileKind.CAPTION)
        if problem:
            change = replace(change, status=ImageStatus.INVALID, problem=problem,
                             compared=status)
        plan.captions.append(change)
