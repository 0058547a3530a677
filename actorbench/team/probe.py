"""Refuse a server that ignores write conditions: team mode's safety rests on them.

``rclone serve s3`` accepts a PUT with ``If-None-Match: *`` over an existing object and one
with a stale ``If-Match``; two workstations could then overwrite each other's records there
without either one noticing.
"""

from __future__ import annotations

import contextlib
import uuid

from ..errors import PreconditionFailed, StoreError, TeamUnsupported
from ..storage.base import ObjectStore


def check_conditional_writes(store: ObjectStore, prefix: str, server: str) -> None:
    """Put a scratch object under ``prefix``, try two writes over it that must answer 412,
    then remove it. ``TeamUnsupported`` names the server and what it let through."""
    key = f"{prefix.strip('/')}/.probe/{uuid.uuid4().hex}.json"
    ignored: list[str] = []
    try:
        store.put_bytes_if(key, b'{"probe": 1}')
        for what, kwargs in (("If-None-Match: * over an existing object",
                              {"if_none_match": True}),
                             ("If-Match with a stale ETag", {"if_match": "0" * 32})):
            try:
                store.put_bytes_if(key, b'{"probe": 2}', **kwargs)
            except PreconditionFailed:
                continue  # refused, as it must be
            except StoreError as exc:
                if getattr(exc, "permanent", False) or "NotImplemented" in str(exc):
                    ignored.append(f"{what} (answered: {exc})")
                    continue
                raise
            ignored.append(what)
    finally:
        with contextlib.suppress(StoreError):
            store.delete(key)
    if ignored:
        raise TeamUnsupported(
            f"Team mode (ACTORBENCH_TEAM=1) needs an S3 server that refuses stale writes, and "
            f"{server} (bucket {store.bucket!r}) accepted a PUT with " + " and a PUT with ".join(
                ignored) + ". Two workstations could overwrite each other's ledgers there. Use "
            "a server that honours If-Match / If-None-Match (AWS S3, MinIO, moto; `rclone serve "
            "s3` does not), or unset ACTORBENCH_TEAM to work alone.")
