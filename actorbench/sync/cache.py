"""The local cache of an actor's images: clean verified copies, measure what is kept."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from ..storage.layout import Layout
from .manifest import Manifest
from .plan import ActorPlan, ImageStatus


def clean(layout: Layout, plan: ActorPlan, dry_run: bool = False) -> dict[str, Any]:
    """Delete local copies only of images verified identical in S3 (call under the lock)."""
    n = plan.actor
    safe = plan.by_status(ImageStatus.SYNCED)
    kept = [c for c in plan.changes if c.local and c.status is not ImageStatus.SYNCED]
    freed = sum(c.local.size for c in safe if c.local)
    if not dry_run:
        manifest = Manifest.load(layout.manifest_path(n))
        for c in safe:
            assert c.local
            if not is_regular(c.local.path):
                continue  # replaced since it was verified: not what was checked
            c.local.path.unlink(missing_ok=True)
            manifest.entries.pop(c.index, None)
        manifest.save()
    return {"actor": n, "deleted": len(safe), "bytes_freed": freed, "kept": len(kept),
            "dry_run": dry_run, "kept_keys": [c.key for c in kept]}


def usage(layout: Layout, name: str) -> int:
    """Bytes on local disk for one actor (training images, base image, everything); links
    and other non-regular entries are not followed and count nothing."""
    folder = layout.actor_dir(name)
    total = 0
    for root, _dirs, files in os.walk(folder):  # os.walk does not follow symlinked folders
        for f in files:
            try:
                st = os.lstat(os.path.join(root, f))
            except FileNotFoundError:
                continue
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total


def is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False
