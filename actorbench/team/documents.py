"""Shared JSON documents in the bucket, read with their ETag and written by compare-and-swap.

Usage::

    docs = SharedDocuments(store, "system_actors/actorbench_state")
    doc = docs.update("ledgers/2.json", lambda current: merge_ledger(current, mine))
"""

from __future__ import annotations

import copy
import json
import random
import time
from collections.abc import Callable
from typing import Any

from ..errors import PreconditionFailed, RegistryError, SharedWriteConflict, StoreError
from ..storage.base import ObjectStore

#: compare-and-swap attempts before a writer gives up (and says so: nothing is dropped quietly)
#: the shared documents' names under the team prefix: one vocabulary for writers and watchers
REGISTRY_DOC = "registry.json"  # new actors, validated models
LEDGERS = "ledgers/"  # ledgers/<actor id>.json: each actor's training versions
PARAMS = "params/"  # params/<actor folder>.json: the parameters saved last

ATTEMPTS = 12
#: a shared document larger than this is refused, not parsed (a ledger of ~10,000 versions)
MAX_DOC_BYTES = 16 * 1000**2
Change = Callable[[dict[str, Any] | None], dict[str, Any]]


def encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False).encode()


class SharedDocuments:
    """The documents under ``prefix``: ``read`` gives a document and its ETag, ``update``
    applies a change and writes it only over the ETag it read (``If-None-Match: *`` for a new
    document); on 412 it reads again and applies the change again, after a jittered pause."""

    def __init__(self, store: ObjectStore, prefix: str, attempts: int = ATTEMPTS,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.store, self.prefix = store, prefix.strip("/")
        self.attempts, self.sleep = attempts, sleep
        self.conflicts = 0  # compare-and-swap races lost (and retried) by this process

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def read(self, name: str) -> tuple[dict[str, Any] | None, str | None]:
        """The document and its ETag; ``(None, None)`` when nobody wrote it yet."""
        key = self.key(name)
        got = self.store.get_bytes(key)
        if got is None:
            return None, None
        data, etag = got
        if not etag:
            raise StoreError(f"s3://{self.store.bucket}/{key} came without an ETag: team mode "
                             "cannot write it safely.")
        return self.parse(key, data), etag

    def parse(self, key: str, data: bytes) -> dict[str, Any]:
        where = f"s3://{self.store.bucket}/{key}"
        if len(data) > MAX_DOC_BYTES:
            raise RegistryError(where, f"is {len(data):,} bytes, over the {MAX_DOC_BYTES:,}-byte "
                                "cap of a shared document; refused, not read")
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise RegistryError(where, f"malformed JSON ({type(exc).__name__})") from None
        if not isinstance(doc, dict):
            raise RegistryError(where, "must hold a JSON object")
        return doc

    def update(self, name: str, change: Change) -> dict[str, Any]:
        """Apply ``change`` to the current document and store the result; returns what is
        stored. ``change`` may run several times (once per lost race) and may raise to
        refuse; it gets a copy it may modify."""
        key = self.key(name)
        for attempt in range(self.attempts):
            current, etag = self.read(name)
            new = change(copy.deepcopy(current))
            if new == current and current is not None:
                return current  # nothing to write
            try:
                self.store.put_bytes_if(key, encode(new), if_match=etag,
                                        if_none_match=etag is None)
            except PreconditionFailed:  # someone wrote it since we read it: read, merge again
                self.conflicts += 1
                self.sleep(random.uniform(0, min(1.0, 0.02 * 2 ** attempt)))
                continue
            return new
        raise SharedWriteConflict(
            f"s3://{self.store.bucket}/{key} kept changing under this workstation: "
            f"{self.attempts} attempts to update it each lost to another writer. Nothing was "
            "written; try again.")

    def etags(self) -> dict[str, str]:
        """Every document's ETag from one listing (the cheap "has anything changed" check)."""
        root = f"{self.prefix}/"
        return {info.key[len(root):]: info.etag for info in self.store.list(root)
                if not info.key[len(root):].startswith(".")}
