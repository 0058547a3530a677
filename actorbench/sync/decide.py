"""Decide, then apply (dvc-data ``index/checkout.py``): what a sync will do, as a value.

:func:`action_for` is the whole policy, a pure function of (status, direction, prefer);
:func:`decide` applies it to an actor's plan and returns :class:`Transfers`, a frozen value the
applier executes, ``--dry-run`` prints and the Training Data page reads ("Sync will download 12
and keep 1 conflict"). Nothing here touches S3 or the disk except through ``check``.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .plan import PULLABLE, PUSHABLE, ActorPlan, Change, FileKind, ImageStatus, LocalFile


class Direction(enum.StrEnum):
    PULL = "pull"
    PUSH = "push"

    @property
    def verb(self) -> str:
        """What a summary calls a moved file: ``downloaded`` or ``uploaded``."""
        return "downloaded" if self is Direction.PULL else "uploaded"


class Prefer(enum.StrEnum):
    """Which side wins a conflict when the user says so (``--prefer``)."""

    LOCAL = "local"
    REMOTE = "remote"


class Action(enum.StrEnum):
    """What happens to one image. The loser of an overwrite is always kept beside it."""

    DOWNLOAD = "download"  # S3's version lands at the image's path
    UPLOAD = "upload"  # the local file goes to S3, conditioned on what S3 held
    OVERWRITE = "overwrite"  # --prefer: the preferred side replaces the other (pull keeps
    #                          the local file as *.conflict-local.png; push is conditional)
    KEEP_BOTH = "keep-both"  # a pull conflict: S3's version lands as *.conflict-remote.png
    CONFLICT = "conflict"  # a push conflict: nothing moves, the user decides
    SKIP = "skip"  # nothing to do in this direction

    @property
    def moves(self) -> bool:
        return self not in (Action.CONFLICT, Action.SKIP)


def action_for(status: ImageStatus, direction: Direction, prefer: Prefer | None,
               has_remote: bool = True) -> Action:
    """The sync policy: one image's action from its status, the direction and ``--prefer``.

    A remote delete never deletes a local file, a push never deletes in S3, and a local edit
    is never overwritten unless the user prefers S3's side (and then it is kept aside).
    """
    if direction is Direction.PULL:
        if status in PULLABLE:
            return Action.DOWNLOAD
        if status is ImageStatus.CONFLICT and has_remote:
            return Action.OVERWRITE if prefer is Prefer.REMOTE else Action.KEEP_BOTH
        if status is ImageStatus.LOCAL_MODIFIED and prefer is Prefer.REMOTE:
            return Action.OVERWRITE
        return Action.SKIP
    if status in PUSHABLE:
        return Action.UPLOAD
    if status is ImageStatus.CONFLICT:
        return Action.OVERWRITE if prefer is Prefer.LOCAL else Action.CONFLICT
    if status is ImageStatus.DELETED_REMOTE and prefer is Prefer.LOCAL:
        return Action.UPLOAD
    return Action.SKIP


@dataclass(frozen=True)
class Transfer:
    """One image and what will happen to it."""

    change: Change
    action: Action

    @property
    def actor(self) -> str:
        return self.change.actor

    @property
    def key(self) -> str:
        return self.change.key

    @property
    def size(self) -> int:
        return self.change.size


@dataclass(frozen=True)
class Refusal:
    key: str
    reason: str


@dataclass(frozen=True)
class Transfers:
    """What one sync of one actor will do: every image of the selection, decided."""

    actor: str
    direction: Direction
    items: tuple[Transfer, ...]
    refused: tuple[Refusal, ...] = ()

    def of(self, *actions: Action) -> list[Transfer]:
        return [t for t in self.items if t.action in actions]

    @property
    def moving(self) -> list[Transfer]:
        """What moves bytes, in plan order."""
        return [t for t in self.items if t.action.moves]

    @property
    def bytes(self) -> int:
        return sum(t.size for t in self.moving)

    def counts(self) -> Counter[Action]:
        return Counter(t.action for t in self.items)

    def describe(self) -> str:
        """``"download 12, keep 1 conflict"``: the sentence the page and the dry run print."""
        c = self.counts()
        verb = "download" if self.direction is Direction.PULL else "upload"
        parts = []
        if c[Action.DOWNLOAD] or c[Action.UPLOAD]:
            captions = sum(1 for t in self.of(Action.DOWNLOAD, Action.UPLOAD)
                           if t.change.kind is FileKind.CAPTION)
            parts.append(f"{verb} {c[Action.DOWNLOAD] + c[Action.UPLOAD]}"
                         + (f" ({captions} caption{'s' if captions != 1 else ''})"
                            if captions else ""))
        if c[Action.OVERWRITE]:
            side = "S3's" if self.direction is Direction.PULL else "your"
            parts.append(f"overwrite {c[Action.OVERWRITE]} with {side} version "
                         "(the other kept aside)" if self.direction is Direction.PULL
                         else f"overwrite {c[Action.OVERWRITE]} in S3 with {side} version")
        if c[Action.KEEP_BOTH]:
            parts.append(f"keep {c[Action.KEEP_BOTH]} "
                         f"conflict{'s' if c[Action.KEEP_BOTH] != 1 else ''} (both sides)")
        if c[Action.CONFLICT]:
            parts.append(f"leave {c[Action.CONFLICT]} "
                         f"conflict{'s' if c[Action.CONFLICT] != 1 else ''} for you to decide")
        if self.refused:
            parts.append(f"refuse {len(self.refused)} invalid")
        return ", ".join(parts) if parts else "nothing to do"

    def to_json(self) -> dict[str, Any]:
        return {"actor": self.actor, "direction": str(self.direction),
                "summary": self.describe(), "bytes": self.bytes,
                "actions": [{"key": t.key, "index": t.change.index, "action": str(t.action),
                             "status": t.change.status.value, "bytes": t.size,
                             **({"kind": "caption"} if t.change.kind is FileKind.CAPTION
                                else {})}
                            for t in self.items if t.action is not Action.SKIP],
                "skipped": len(self.of(Action.SKIP)),
                "refused": [{"key": r.key, "reason": r.reason} for r in self.refused]}


#: reads a local file's problem as an image ("" if it is fit to push); cached by the caller
ImageCheck = Callable[[LocalFile], str]


def decide(plan: ActorPlan, direction: Direction, prefer: Prefer | None = None,
           check: ImageCheck | None = None, allow_invalid: bool = False) -> Transfers:
    """Every image of ``plan`` with its action; files not fit to upload are refused.

    A change marked ``INVALID`` carries the status it would otherwise have (``compared``) and
    the reason; it is decided on that status, then refused if the action would upload it. An
    image name held by a symlink, fifo or folder (no ``compared``) is never read, nor written
    through or over. ``check`` looks at other upload candidates (a conflict pushed with
    ``--prefer local``, a remote delete re-uploaded), unless ``allow_invalid``. Captions
    follow the images, by the same policy.
    """
    items: list[Transfer] = []
    refused: list[Refusal] = []
    for ch in [*plan.changes, *plan.captions]:
        problem = ""
        if ch.status is ImageStatus.INVALID and ch.compared is not None:
            problem, ch = ch.problem, replace(ch, status=ch.compared)
        action = action_for(ch.status, direction, prefer, ch.remote is not None)
        uploading = direction is Direction.PUSH and action.moves
        if ch.local is not None:  # a regular file: only uploading it is in question
            if allow_invalid or not uploading:
                problem = ""
            elif not problem and check is not None:
                problem = check(ch.local)
        if problem and action is not Action.SKIP:
            refused.append(Refusal(ch.key, problem))
            continue
        items.append(Transfer(ch, action))
    return Transfers(plan.actor, direction, tuple(items), tuple(refused))
