"""One retry policy for every network call: S3 (urllib3, aiohttp, boto3) and RunPod.

The cap: **at most 5 attempts per object**, whatever path it takes (``MAX_ATTEMPTS``). A pull
spends one on the bulk getter (two if its connection dropped: aiohttp resends a GET once on a
dropped keep-alive connection, ``bulk.Failed.requests``); the careful path gets the rest.
Inside a transfer the stores make exactly one request per call (:func:`caller_retries`), so
retries never nest: an object costs at most 5 GETs (plus one HEAD after a 412), an upload at
most 5 HEAD + PUT pairs. A call outside a transfer (a listing page, a bucket check) gets 5
attempts; botocore itself tries once under ``S3Store`` (``client.make_s3_client``).

Waits are "full jitter" (uniform in [0, min(cap, base * 2**attempt)], AWS architecture blog),
or what the server asked for in ``Retry-After`` (at most ``MAX_RETRY_AFTER_S``). What is worth
retrying is decided by exception type and HTTP status or S3 error code, never by message text.
"""

from __future__ import annotations

import contextlib
import random
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from ..errors import Cancelled, CredentialsError, PreconditionFailed, StoreError, is_disk_full

#: attempts per object (1 bulk + 4 careful) and per call outside a transfer
MAX_ATTEMPTS = 5
#: the longest ``Retry-After`` honoured; a longer one is cut to this
MAX_RETRY_AFTER_S = 20.0
#: HTTP statuses worth another attempt (throttling and server-side failures)
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
#: S3 error codes worth another attempt, whatever the status
RETRY_CODES = frozenset({"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout",
                         "Throttling", "ThrottlingException", "RequestLimitExceeded"})

_CALLER_RETRIES: ContextVar[bool] = ContextVar("actorbench_caller_retries", default=False)


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts and how long between them.

    Usage::

        policy = RetryPolicy()
        for attempt in range(policy.attempts_per_call()):
            ...
            time.sleep(policy.delay(attempt, retry_after(resp.headers.get("Retry-After"))))
    """

    attempts: int = MAX_ATTEMPTS
    base_s: float = 0.1
    cap_s: float = 3.0
    max_retry_after_s: float = MAX_RETRY_AFTER_S

    def delay(self, attempt: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1``: the server's word, else jitter."""
        if retry_after_s is not None:
            return max(0.0, min(retry_after_s, self.max_retry_after_s))
        return random.uniform(0, min(self.cap_s, self.base_s * 2 ** attempt))

    def attempts_per_call(self) -> int:
        """1 inside :func:`caller_retries` (the caller owns the retries), else ``attempts``."""
        return 1 if _CALLER_RETRIES.get() else self.attempts


DEFAULT = RetryPolicy()


@contextlib.contextmanager
def caller_retries() -> Iterator[None]:
    """Store calls made in this block try once: the caller retries the whole operation."""
    token = _CALLER_RETRIES.set(True)
    try:
        yield
    finally:
        _CALLER_RETRIES.reset(token)


def retry_after(value: str | None) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date) in seconds; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def retryable_status(status: int, code: str = "") -> bool:
    """An answer worth another attempt: throttling or a server-side failure."""
    return status in RETRY_STATUS or code in RETRY_CODES


def is_transient(exc: BaseException) -> bool:
    """Worth another attempt, judged by the exception's type (and its status, if it has one)."""
    if isinstance(exc, (Cancelled, CredentialsError, PreconditionFailed)) or is_disk_full(exc):
        return False
    if isinstance(exc, StoreError):
        return not exc.permanent
    if isinstance(exc, _permanent_types()):
        return False
    if isinstance(exc, _transient_types()):
        return True
    return isinstance(exc, OSError)  # resets, refusals, timeouts of the socket layer


def never_sent(exc: BaseException) -> bool:
    """The request never left this machine (refused, unresolvable, connect timeout): resending
    it cannot do anything twice. Judged by the types in the exception's chain."""
    import urllib3.exceptions as u3

    for link in links(exc):
        if isinstance(link, (u3.NewConnectionError, u3.ConnectTimeoutError,
                             ConnectionRefusedError)):
            return True
        if "requests" in sys.modules:
            import requests

            if isinstance(link, requests.exceptions.ConnectTimeout):
                return True
    return False


def links(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: causes, contexts, exception arguments, urllib3's ``reason``."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        link = todo.pop()
        if id(link) in seen or len(seen) > 20:
            continue
        seen.add(id(link))
        yield link
        reason = getattr(link, "reason", None)
        nested = [link.__cause__, link.__context__, reason, *link.args]
        todo.extend(x for x in nested if isinstance(x, BaseException))


def _transient_types() -> tuple[type[BaseException], ...]:
    import urllib3.exceptions as u3

    out: list[type[BaseException]] = [u3.HTTPError, ConnectionError, TimeoutError]
    if "requests" in sys.modules:
        import requests.exceptions as rq

        out += [rq.ConnectionError, rq.Timeout, rq.ChunkedEncodingError,
                rq.ContentDecodingError]
    if "botocore" in sys.modules:
        import botocore.exceptions as bc

        out += [bc.ConnectionError, bc.HTTPClientError, bc.IncompleteReadError,
                bc.ResponseStreamingError]
    return tuple(out)


def _permanent_types() -> tuple[type[BaseException], ...]:
    """Retrying cannot help: a certificate nobody trusts, a malformed answer, a bad URL."""
    import ssl

    import urllib3.exceptions as u3

    out: list[type[BaseException]] = [ssl.SSLCertVerificationError, u3.SSLError,
                                      u3.InvalidHeader, u3.LocationParseError]
    if "requests" in sys.modules:
        import requests.exceptions as rq

        out += [rq.SSLError, rq.InvalidURL, rq.InvalidHeader]
    if "botocore" in sys.modules:
        import botocore.exceptions as bc

        out += [bc.SSLError, bc.NoCredentialsError, bc.PartialCredentialsError]
    return tuple(out)
