"""A lean S3 store on urllib3 and SigV4: the sync hot path without boto3's per-request cost.

boto3 spends ~1.7 ms of CPU per request (event hooks, models, parsing) and ~0.25 s to import
and build a client; the library-scale sync is CPU-bound on exactly that. This store does the
six calls sync needs (list, head, get, put, delete, create bucket) and presigns GETs. It is run
through the same contract tests as ``S3Store``. Credentials: static keys only (env, .env);
anything else (profiles, SSO, instance roles) uses ``S3Store`` over boto3.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import urllib3

from ..errors import AccessRefused, PreconditionFailed, StoreError, Unreachable
from ..fsutil import open_regular
from .base import BulkGetter, ObjectInfo, StoreDefaults
from .hashing import strip_etag
from .sigv4 import EMPTY_SHA256, UNSIGNED, Signer, canonical_query
from .urls import check_key

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
RETRY_STATUS = {500, 502, 503, 504, 429}
ATTEMPTS = 5


def _text(el: ET.Element, name: str) -> str:
    found = el.find(NS + name)
    if found is None:
        found = el.find(name)
    return (found.text or "") if found is not None else ""


def _error_code(data: bytes) -> str:
    try:
        root = ET.fromstring(data)
        return _text(root, "Code")
    except ET.ParseError:
        return ""


class _Body:
    """A streaming body with ``read(n)`` and ``close()`` like botocore's."""

    def __init__(self, resp: urllib3.BaseHTTPResponse, release: Any) -> None:
        self._resp = resp
        self._done = False
        self._release = release

    def read(self, amt: int | None = None) -> bytes:
        try:
            data = self._resp.read(amt)
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError,
                urllib3.exceptions.DecodeError) as exc:
            raise StoreError(f"download interrupted ({type(exc).__name__})") from None
        if not data:
            self._done = True
        return data

    def close(self) -> None:
        if self._done:  # fully read: the connection goes back to the pool
            self._resp.release_conn()
        else:  # abandoned mid-body: drop the connection
            self._resp.close()
        pool = getattr(self._resp, "_actorbench_pool", None)
        if pool is not None:
            self._resp._actorbench_pool = None  # type: ignore[attr-defined]
            self._release(pool)


class LeanS3Store(StoreDefaults):
    """Usage::

        store = LeanS3Store("http://127.0.0.1:9000", "us-west-1", "bucket", key, secret)
        for info in store.list("prefix/"): ...
    """

    def __init__(self, endpoint_url: str | None, region: str, bucket: str, access_key: str,
                 secret_key: str, session_token: str | None = None, pool_size: int = 36,
                 connect_timeout: float = 5.0, read_timeout: float = 30.0,
                 connections: int = 128) -> None:
        self.bucket, self.region = bucket, region
        if endpoint_url:
            parts = urlsplit(endpoint_url)
            self.scheme, self.host = parts.scheme or "http", parts.netloc
            self.base_path = f"{parts.path.rstrip('/')}/{bucket}"  # path-style
        else:
            self.scheme, self.host = "https", f"{bucket}.s3.{region}.amazonaws.com"
            self.base_path = ""
        self.endpoint = f"{self.scheme}://{self.host}"
        self.signer = Signer(access_key, secret_key, region, session_token)
        self._timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        # A stack of one-connection pools behind a plain lock: urllib3's shared queue (a
        # Condition) was the bottleneck with dozens of worker threads (~40% of samples waiting
        # on it). Connections outlive threads, so the dashboard's next sync starts warm.
        self._idle: list[urllib3.HTTPConnectionPool] = []
        self._lock = threading.Lock()
        self._max_idle = pool_size
        self._connections, self._read_timeout = connections, read_timeout
        self._connect_timeout = connect_timeout
        self._bulk: Any = None

    def bulk_getter(self) -> BulkGetter | None:
        """The many-GETs path for big pulls (``storage.bulk.BulkGetter``), created once."""
        with self._lock:
            if self._bulk is None:
                from .bulk import BulkGetter

                self._bulk = BulkGetter(self.scheme, self.host, self.base_path, self.signer,
                                        self._connections, self._connect_timeout,
                                        self._read_timeout)
            return self._bulk

    def _acquire(self) -> urllib3.HTTPConnectionPool:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return urllib3.connection_from_url(self.endpoint, maxsize=1, block=False,
                                           retries=False, timeout=self._timeout)

    def _release(self, pool: urllib3.HTTPConnectionPool) -> None:
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append(pool)
                return
        pool.close()

    def __repr__(self) -> str:
        return f"LeanS3Store({self.endpoint!r}, bucket={self.bucket!r})"

    # -- transport ---------------------------------------------------------------------------
    def _path(self, key: str = "") -> str:
        return f"{self.base_path}/{key}" if key else (self.base_path or "/")

    def _request(self, method: str, key: str = "", query: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None, body: bytes | None = None,
                 stream: bool = False, payload_hash: str = EMPTY_SHA256,
                 ok: tuple[int, ...] = (200,)) -> urllib3.BaseHTTPResponse:
        """One S3 call with retries on 5xx, 429, SlowDown and connection errors."""
        query = query or {}
        path = self._path(key)
        url = f"{self.endpoint}{quote(path, safe='/-_.~')}"
        if query:
            url += "?" + canonical_query(query)
        where = f"s3://{self.bucket}/{key}" if key else f"bucket {self.bucket!r}"
        last = ""
        for attempt in range(ATTEMPTS):
            signed = self.signer.sign(method, self.host, path, query, headers or {},
                                      payload_hash)
            pool = self._acquire()
            try:
                resp = pool.urlopen(method, url, body=body, headers=signed,
                                    preload_content=not stream, redirect=False,
                                    release_conn=not stream)
            except urllib3.exceptions.NewConnectionError:
                self._release(pool)
                last = "connection refused"
                if attempt + 1 < ATTEMPTS:
                    time.sleep(_backoff(attempt))
                    continue
                raise Unreachable(f"Cannot reach the S3 server at {self.endpoint}: is it running,"
                                  " and is AWS_ENDPOINT_URL right?") from None
            except urllib3.exceptions.HTTPError as exc:
                self._release(pool)
                last = type(exc).__name__
                if attempt + 1 < ATTEMPTS:
                    time.sleep(_backoff(attempt))
                    continue
                raise Unreachable(f"S3 request for {where} failed: {last}.") from None
            if resp.status in ok:
                if stream:
                    resp._actorbench_pool = pool  # type: ignore[attr-defined]
                else:
                    self._release(pool)
                return resp
            data = resp.data if not stream else resp.read()
            resp.release_conn()
            self._release(pool)
            code = _error_code(data) if data else ""
            if resp.status in RETRY_STATUS or code in ("SlowDown", "InternalError"):
                last = code or f"HTTP {resp.status}"
                if attempt + 1 < ATTEMPTS:
                    time.sleep(_backoff(attempt))
                    continue
                raise Unreachable(f"S3 error on {where}: {last} (after {ATTEMPTS} attempts).")
            raise _translate(resp.status, code, where, self.bucket)
        raise StoreError(f"S3 error on {where}: {last}.")

    def warm(self, n: int) -> None:
        """Have ``n`` open connections ready (called by workers while the listing runs)."""
        with self._lock:
            if len(self._idle) >= n:
                return
        pool = urllib3.connection_from_url(self.endpoint, maxsize=1, block=False,
                                           retries=False, timeout=self._timeout)
        try:
            conn = pool._get_conn()
            conn.connect()
            pool._put_conn(conn)
        except (urllib3.exceptions.HTTPError, OSError):
            return  # the real request will retry and report
        self._release(pool)

    # -- the port ------------------------------------------------------------------------------
    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        """Objects under ``prefix`` in key order (after ``start_after``), page by page."""
        token: str | None = None
        while True:
            q = {"list-type": "2", "prefix": prefix, "max-keys": "1000"}
            if token:
                q["continuation-token"] = token
            elif start_after:
                q["start-after"] = start_after
            resp = self._request("GET", query=q)
            try:
                root = ET.fromstring(resp.data)
            except ET.ParseError:
                raise StoreError(f"S3 listing of {prefix!r} is not valid XML.") from None
            for c in root.iter(NS + "Contents"):
                lm = _text(c, "LastModified")
                yield ObjectInfo(_text(c, "Key"), int(_text(c, "Size") or 0),
                                 strip_etag(_text(c, "ETag")),
                                 datetime.fromisoformat(lm.replace("Z", "+00:00")) if lm
                                 else None)
            if _text(root, "IsTruncated") != "true":
                return
            token = _text(root, "NextContinuationToken")
            if not token:
                return

    def head(self, key: str) -> ObjectInfo | None:
        check_key(key)
        try:
            resp = self._request("HEAD", key)
        except StoreError as exc:
            if getattr(exc, "status", 0) == 404:
                return None
            raise
        return ObjectInfo(key, int(resp.headers.get("Content-Length", 0)),
                          strip_etag(resp.headers.get("ETag")), None)

    def open_get(self, key: str, if_match: str | None = None) -> tuple[Any, ObjectInfo]:
        check_key(key)
        headers = {"If-Match": f'"{strip_etag(if_match)}"'} if if_match else {}
        resp = self._request("GET", key, headers=headers, stream=True)
        size = int(resp.headers.get("Content-Length", 0))
        return _Body(resp, self._release), ObjectInfo(key, size,
                                       strip_etag(resp.headers.get("ETag")), None)

    def put_file(self, key: str, path: Path, md5_hex: str, if_match: str | None = None,
                 if_none_match: bool = False) -> str:
        with open_regular(Path(path)) as fh:  # a symlink is never uploaded
            data = fh.read()
        return self._put(key, data, md5_hex, if_match, if_none_match)

    def put_bytes(self, key: str, data: bytes, content_type: str = "image/png") -> str:
        return self._put(key, data, hashlib.md5(data, usedforsecurity=False).hexdigest(),
                         None, False, content_type)

    def _put(self, key: str, data: bytes, md5_hex: str, if_match: str | None,
             if_none_match: bool, content_type: str = "image/png") -> str:
        import base64

        check_key(key)
        headers = {"Content-Type": content_type, "Content-Length": str(len(data)),
                   "Content-MD5": base64.b64encode(bytes.fromhex(md5_hex)).decode()}
        if if_match:
            headers["If-Match"] = f'"{strip_etag(if_match)}"'
        elif if_none_match:
            headers["If-None-Match"] = "*"
        resp = self._request("PUT", key, headers=headers, body=data, payload_hash=UNSIGNED)
        return strip_etag(resp.headers.get("ETag"))

    def delete(self, key: str) -> None:
        check_key(key)
        self._request("DELETE", key, ok=(200, 204))

    def presign_get(self, key: str, expires: int = 3600) -> str:
        check_key(key)
        return self.signer.presign(self.scheme, self.host, self._path(key), expires)

    def ensure_bucket(self) -> None:
        try:
            self._request("HEAD")
        except StoreError:
            body = b""
            if self.region != "us-east-1":
                body = (f'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/'
                        f'2006-03-01/"><LocationConstraint>{self.region}</LocationConstraint>'
                        "</CreateBucketConfiguration>").encode()
            self._request("PUT", body=body or None,
                          payload_hash=hashlib.sha256(body).hexdigest())


def _backoff(attempt: int) -> float:
    return random.uniform(0, min(3.0, 0.1 * 2 ** attempt))


def _translate(status: int, code: str, where: str, bucket: str) -> StoreError:
    if status == 412 or code == "PreconditionFailed":
        return PreconditionFailed(f"{where} changed since it was listed.")
    if status == 409 and code == "ConditionalRequestConflict":
        return PreconditionFailed(f"{where} was written by someone else at the same time.")
    if code == "NoSuchBucket":
        err = StoreError(f"Bucket {bucket!r} does not exist on this S3 server.", True)
    elif status == 403 or code in ("InvalidAccessKeyId", "SignatureDoesNotMatch",
                                   "AccessDenied"):
        err = AccessRefused(f"Access to {where} was refused ({code or status}): check the AWS "
                            "credentials and the bucket policy.", True)
    elif status == 404:
        err = StoreError(f"{where} does not exist.", True)
    else:
        err = StoreError(f"S3 error on {where}: {code or status}.", status < 500)
    err.status = status  # type: ignore[attr-defined]
    return err
