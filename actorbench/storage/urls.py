"""Parse and format the S3 URLs people paste, refusing anything outside the library."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

from ..errors import UnsafePathError
from .layout import Layout

_VHOST = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])\.s3(?:[.-](?P<region>[a-z0-9\-]+))?"
    r"\.amazonaws\.com$")
_PATH = re.compile(r"^s3(?:[.-](?P<region>[a-z0-9\-]+))?\.amazonaws\.com$")


def check_key(key: str) -> str:
    """Refuse keys with ``..``, ``.``, empty or absolute parts, backslashes or NULs."""
    if not key or key.startswith("/") or "\\" in key or "\x00" in key:
        raise UnsafePathError(f"S3 key {key!r} is not allowed: it is empty or absolute, or "
                              "holds a backslash or a NUL.")
    for part in key.split("/"):
        if part in ("", ".", ".."):
            raise UnsafePathError(f"S3 key {key!r} is not allowed: it holds an empty, '.' "
                                  "or '..' part.")
    return key


def split_s3_url(url: str) -> tuple[str, str]:
    """``(bucket, key)`` from any common S3 URL form; the key is percent-decoded once."""
    raw = url.strip()
    if not raw:
        raise UnsafePathError("An empty string is not an S3 URL.")
    if raw.startswith("s3://"):
        rest = raw[5:]
        bucket, _, key = rest.partition("/")
        key = key.split("?", 1)[0]
        return bucket, unquote(key)
    if "://" not in raw:
        raw = "https://" + raw
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https"):
        raise UnsafePathError(f"{url!r} is not an S3 URL (scheme {parts.scheme!r}).")
    host = (parts.hostname or "").lower()
    path = parts.path
    if "%2f" in path.lower():
        raise UnsafePathError(f"{url!r} hides a '/' as %2F; refusing it.")
    m = _VHOST.match(host)
    if m:
        return m["bucket"], unquote(path.lstrip("/"))
    if _PATH.match(host):
        bucket, _, key = path.lstrip("/").partition("/")
        return bucket, unquote(key)
    raise UnsafePathError(f"{url!r} is not an S3 URL this tool understands (host {host!r}).")


def parse_image_url(url: str, layout: Layout, bucket: str,
                    actor: str | None = None) -> tuple[str, int]:
    """``(actor, index)`` for a URL of one training image of this library, or a clear refusal."""
    got_bucket, key = split_s3_url(url)
    if got_bucket != bucket:
        raise UnsafePathError(f"{_redact(url)} points at bucket {got_bucket!r}, not {bucket!r}.")
    check_key(key)
    parsed = layout.parse_image_key(key)
    if parsed is None:
        raise UnsafePathError(f"{_redact(url)} is outside {layout.prefix}/<actor>/<actor>_<i>.png.")
    if actor is not None and parsed[0] != actor:
        raise UnsafePathError(f"{_redact(url)} belongs to actor {parsed[0]!r}, not {actor!r}.")
    return parsed


def format_s3_url(bucket: str, region: str, key: str) -> str:
    """The virtual-hosted URL the seeds store in ``s3_urls``."""
    check_key(key)
    return f"https://{bucket}.s3.{region}.amazonaws.com/{quote(key)}"


def _redact(url: str) -> str:
    """Drop a query string (a presigned signature must never reach a message)."""
    return url.split("?", 1)[0]
