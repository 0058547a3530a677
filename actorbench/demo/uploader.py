"""Where the demo's RunPod stand-in puts its sample images: the demo bucket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def sample_uploader(store: Any) -> Callable[[str, str, bytes], None]:
    """Where the demo's RunPod stand-in puts its sample images: the demo bucket."""
    def put(bucket: str, key: str, body: bytes) -> None:
        if bucket == store.bucket:
            store.put_bytes(key, body)
    return put
