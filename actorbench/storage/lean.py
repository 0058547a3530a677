"""A lean S3 store on urllib3 and SigV4: the sync hot path without boto3's per-request cost.

boto3 spends ~1.7 ms of CPU per request (event hooks, models, parsing) and ~0.25 s to import
and build a client; the library-scale sync is CPU-bound on exactly that. This store does the
six calls sync needs (list, head, get, put, delete, create bucket) and presigns GETs. It is run
through the same contract tests as ``S3Store``, over plain HTTP, TLS and a CONNECT proxy.
Credentials: static keys only (env, .env); anything else (profiles, SSO, instance roles) uses
``S3Store`` over boto3 (``net.store_kind`` decides).

Where requests go (``net``): virtual-hosted on AWS, path-style for custom endpoints and dotted
bucket names; TLS against ``AWS_CA_BUNDLE`` or the system store; ``HTTPS_PROXY`` /
``HTTP_PROXY`` / ``NO_PROXY``. A bucket in another region than ``AWS_REGION`` is found from
``x-amz-bucket-region`` (301 PermanentRedirect, 400 AuthorizationHeaderMalformed), used from
then on, and the user is told once. Retries follow ``retry`` (at most 5 attempts per object).

One piece (~380 lines) on purpose: it is one ``ObjectStore`` whose methods share the signing,
the pool, the region learned and the error mapping; split, each half would reach into the
other's state.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import ssl
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, unquote_plus, urlsplit

import urllib3

from ..errors import StoreError
from ..fsutil import open_regular
from .base import BulkGetter, ObjectInfo, StoreDefaults, content_type_of
from .hashing import strip_etag, valid_etag
from .net import Address, Proxies, address, tls_context
from .retry import DEFAULT, RetryPolicy, is_transient, retry_after, retryable_status
from .s3errors import WRONG_REGION, explain, network_error
from .sigv4 import EMPTY_SHA256, UNSIGNED, Signer, canonical_query
from .urls import check_key

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
#: a region name as AWS spells them; anything else from a server is not used in a host name
REGION = re.compile(r"^[a-z]{2}(-[a-z0-9]+){1,4}$")
log = logging.getLogger(__name__)


def _text(el: ET.Element, name: str) -> str:
    found = el.find(NS + name)
    if found is None:
        found = el.find(name)
    return (found.text or "") if found is not None else ""


def _error_fields(data: bytes) -> tuple[str, str]:
    """``(Code, Region)`` of an S3 error document; empty strings when there is none."""
    if not data:
        return "", ""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return "", ""
    return _text(root, "Code"), _text(root, "Region")


class _Body:
    """A streaming body with ``read(n)`` and ``close()`` like botocore's."""

    def __init__(self, resp: urllib3.BaseHTTPResponse) -> None:
        self._resp = resp
        self._done = False

    def read(self, amt: int | None = None) -> bytes:
        try:
            data = self._resp.read(amt)
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError,
                urllib3.exceptions.DecodeError, ssl.SSLError, OSError) as exc:
            raise StoreError(f"download interrupted ({type(exc).__name__})") from None
        if not data:
            self._done = True
        return data

    def close(self) -> None:
        if not self._done:  # abandoned mid-body: the connection cannot be reused
            self._resp.close()
        self._resp.release_conn()


class LeanS3Store(StoreDefaults):
    """Usage::

        store = LeanS3Store("http://127.0.0.1:9000", "us-west-1", "bucket", key, secret)
        for info in store.list("prefix/"): ...
    """

    def __init__(self, endpoint_url: str | None, region: str, bucket: str, access_key: str,
                 secret_key: str, session_token: str | None = None, pool_size: int = 36,
                 connect_timeout: float = 5.0, read_timeout: float = 30.0,
                 connections: int = 128, ca_bundle: str | None = None,
                 proxies: Proxies | None = None, policy: RetryPolicy = DEFAULT) -> None:
        self.bucket, self.region = bucket, region
        self._endpoint_url = endpoint_url
        self._keys = (access_key, secret_key, session_token)
        self.signer = Signer(access_key, secret_key, region, session_token)
        self._addr = address(bucket, region, endpoint_url)
        self.proxies = proxies or Proxies()
        self.policy = policy
        self._ca_bundle = ca_bundle
        self._tls: ssl.SSLContext | None = None
        self._timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self._pool_size = pool_size
        self._lock = threading.RLock()  # tls() is called under it by bulk_getter()
        self._connections, self._read_timeout = connections, read_timeout
        self._connect_timeout = connect_timeout
        self._bulk: Any = None
        self._told_region = False
        self._proxy, self._http = self._manager()

    # -- where requests go -------------------------------------------------------------------
    @property
    def scheme(self) -> str:
        return self._addr.scheme

    @property
    def host(self) -> str:
        return self._addr.host

    @property
    def base_path(self) -> str:
        return self._addr.base_path

    @property
    def endpoint(self) -> str:
        return self._addr.endpoint

    def tls(self) -> ssl.SSLContext:
        """One TLS context (``AWS_CA_BUNDLE`` or the system store) for this store and its
        bulk getter."""
        with self._lock:
            if self._tls is None:
                self._tls = tls_context(self._ca_bundle)
            return self._tls

    def _manager(self) -> tuple[str | None, urllib3.PoolManager]:
        """Pools keyed by host, through the proxy the settings give for this endpoint."""
        kw: dict[str, Any] = {"num_pools": 4, "maxsize": self._pool_size, "block": False,
                              "retries": False, "timeout": self._timeout}
        if self._addr.scheme == "https":
            kw["ssl_context"] = self.tls()
        proxy = self.proxies.for_url(self._addr.endpoint)
        if proxy is None:
            return None, urllib3.PoolManager(**kw)
        parts = urlsplit(proxy)
        headers = {}
        if parts.username:
            headers = urllib3.make_headers(proxy_basic_auth=f"{unquote(parts.username)}:"
                                           f"{unquote(parts.password or '')}")
        return proxy, urllib3.ProxyManager(proxy, proxy_headers=headers, **kw)

    def bulk_getter(self) -> BulkGetter | None:
        """The many-GETs path for big pulls (``storage.bulk.BulkGetter``), created once."""
        with self._lock:
            if self._bulk is None:
                from .bulk import BulkGetter

                addr = self._addr
                self._bulk = BulkGetter(
                    addr.scheme, addr.host, addr.base_path, self.signer, self._connections,
                    self._connect_timeout, self._read_timeout,
                    ssl_context=self._tls_if_https(),
                    proxy=self.proxies.for_url(addr.endpoint))
            return self._bulk

    def _tls_if_https(self) -> ssl.SSLContext | None:
        return self.tls() if self._addr.scheme == "https" else None

    def _use_region(self, region: str, seen_with: str) -> None:
        """The bucket lives in ``region``: sign (and, on AWS, address) for it from now on."""
        with self._lock:
            if region == self.region:
                return
            old, self.region = self.region, region
            self.signer = Signer(*self._keys[:2], region, self._keys[2])
            self._addr = address(self.bucket, region, self._endpoint_url)
            bulk, tell = self._bulk, not self._told_region
            self._told_region = True
        if self.proxies.for_url(self._addr.endpoint) != self._proxy:
            self._proxy, self._http = self._manager()
        if bulk is not None:
            bulk.retarget(self._addr.scheme, self._addr.host, self._addr.base_path,
                          self.signer, self.proxies.for_url(self._addr.endpoint))
        if tell:
            log.warning("Bucket %r is in region %s, not %s (AWS_REGION; S3 said so with "
                        "%s): using %s from now on. Set AWS_REGION=%s to skip this detour.",
                        self.bucket, region, old, seen_with, region, region)

    def __repr__(self) -> str:
        return f"LeanS3Store({self.endpoint!r}, bucket={self.bucket!r})"

    # -- transport ---------------------------------------------------------------------------
    def _path(self, key: str = "", addr: Address | None = None) -> str:
        base = (addr or self._addr).base_path
        return f"{base}/{key}" if key else (base or "/")

    def _request(self, method: str, key: str = "", query: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None, body: bytes | None = None,
                 stream: bool = False, payload_hash: str = EMPTY_SHA256,
                 ok: tuple[int, ...] = (200,)) -> urllib3.BaseHTTPResponse:
        """One S3 call: retried (``retry.RetryPolicy``) on 5xx, 429, SlowDown and connection
        errors, once more in the bucket's region if S3 names another one."""
        query = query or {}
        where = f"s3://{self.bucket}/{key}" if key else f"bucket {self.bucket!r}"
        attempts = self.policy.attempts_per_call()
        attempt, moved = 0, False
        while True:
            addr, signer = self._addr, self.signer  # a region switch replaces both
            path = self._path(key, addr)
            url = f"{addr.endpoint}{quote(path, safe='/-_.~')}"
            if query:
                url += "?" + canonical_query(query)
            signed = signer.sign(method, addr.host, path, query, headers or {}, payload_hash)
            try:
                resp = self._http.urlopen(method, url, body=body, headers=signed,
                                          preload_content=not stream, redirect=False,
                                          release_conn=not stream, assert_same_host=False)
            except urllib3.exceptions.HTTPError as exc:
                if is_transient(exc) and attempt + 1 < attempts:
                    time.sleep(self.policy.delay(attempt))
                    attempt += 1
                    continue
                raise network_error(exc, where, self.endpoint, self._proxy,
                                    attempts > 1) from None
            if resp.status in ok:
                return resp
            data = resp.read() if stream else resp.data
            resp.release_conn()
            code, body_region = _error_fields(data)
            region = resp.headers.get("x-amz-bucket-region") or body_region
            if (not moved and resp.status in (301, 400) and region != signer.region
                    and REGION.match(region or "")
                    and (code in WRONG_REGION or not code)):
                self._use_region(region, code or f"HTTP {resp.status}")
                moved = True  # once: a server that keeps moving the bucket gets an error
                continue
            wait = retry_after(resp.headers.get("Retry-After"))
            if retryable_status(resp.status, code) and attempt + 1 < attempts:
                time.sleep(self.policy.delay(attempt, wait))
                attempt += 1
                continue
            err = explain(resp.status, code, where, self.bucket, signer.region, attempts > 1)
            err.retry_after = wait  # type: ignore[attr-defined]
            raise err

    def warm(self, n: int) -> None:
        """Have ``n`` open connections ready (called by workers while the listing runs): a
        HEAD on the bucket, which also learns the bucket's region early."""
        pool = self._http.connection_from_url(self.endpoint)
        if pool.num_connections >= n:
            return
        addr, signer = self._addr, self.signer
        path = self._path("", addr)
        try:
            resp = self._http.urlopen("HEAD", f"{addr.endpoint}{quote(path, safe='/-_.~')}",
                                      headers=signer.sign("HEAD", addr.host, path, {}, {}),
                                      redirect=False, assert_same_host=False)
        except urllib3.exceptions.HTTPError:
            return  # the real request will retry and report
        region = resp.headers.get("x-amz-bucket-region") or ""
        if resp.status in (301, 400) and region != signer.region and REGION.match(region):
            self._use_region(region, f"HTTP {resp.status}")

    # -- the port ------------------------------------------------------------------------------
    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        """Objects under ``prefix`` in key order (after ``start_after``), page by page."""
        token: str | None = None
        while True:
            # encoding-type=url: a key may hold characters XML 1.0 cannot carry (\x1b, \x07)
            q = {"list-type": "2", "prefix": prefix, "max-keys": "1000", "encoding-type": "url"}
            if token:
                q["continuation-token"] = token
            elif start_after:
                q["start-after"] = start_after
            resp = self._request("GET", query=q)
            try:
                root = ET.fromstring(resp.data)
            except ET.ParseError:
                raise StoreError(f"S3 listing of {prefix!r} is not valid XML.") from None
            encoded = _text(root, "EncodingType") == "url"  # a server may ignore the ask
            for c in root.iter(NS + "Contents"):
                lm = _text(c, "LastModified")
                key = unquote_plus(_text(c, "Key")) if encoded else _text(c, "Key")
                yield ObjectInfo(key, int(_text(c, "Size") or 0),
                                 strip_etag(_text(c, "ETag")),
                                 datetime.fromisoformat(lm.replace("Z", "+00:00")) if lm
                                 else None)
            if _text(root, "IsTruncated") != "true":
                return
            previous, token = token, _text(root, "NextContinuationToken")
            if not token:
                return
            if token == previous:  # a broken server: never loop
                raise StoreError(f"s3://{self.bucket}/{prefix}: the server answered the same "
                                 "listing page twice.", permanent=True)

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
        headers = {"If-Match": self._quoted(if_match, key)} if if_match else {}
        resp = self._request("GET", key, headers=headers, stream=True)
        size = int(resp.headers.get("Content-Length", 0))
        return _Body(resp), ObjectInfo(key, size, strip_etag(resp.headers.get("ETag")), None)

    def _quoted(self, etag: str, key: str) -> str:
        """``"etag"`` for If-Match: only an ETag of the form S3 makes is ever sent back."""
        if not valid_etag(etag):
            raise StoreError(f"s3://{self.bucket}/{key}: the server gave an ETag that is not a "
                             f"hex digest ({etag[:40]!r}); not sending it back.", True)
        return f'"{strip_etag(etag)}"'

    def put_file(self, key: str, path: Path, md5_hex: str, if_match: str | None = None,
                 if_none_match: bool = False) -> str:
        with open_regular(Path(path)) as fh:  # a symlink is never uploaded
            data = fh.read()
        return self._put(key, data, md5_hex, if_match, if_none_match, content_type_of(key))

    def put_bytes(self, key: str, data: bytes, content_type: str = "image/png") -> str:
        return self._put(key, data, hashlib.md5(data, usedforsecurity=False).hexdigest(),
                         None, False, content_type)

    def put_bytes_if(self, key: str, data: bytes, if_match: str | None = None,
                     if_none_match: bool = False,
                     content_type: str = "application/json") -> str:
        return self._put(key, data, hashlib.md5(data, usedforsecurity=False).hexdigest(),
                         if_match, if_none_match, content_type)

    def get_bytes(self, key: str) -> tuple[bytes, str] | None:
        """A small object's bytes and ETag in one GET; None when there is no such object."""
        check_key(key)
        try:
            resp = self._request("GET", key)
        except StoreError as exc:
            if getattr(exc, "status", 0) == 404:
                return None
            raise
        return resp.data, strip_etag(resp.headers.get("ETag"))

    def _put(self, key: str, data: bytes, md5_hex: str, if_match: str | None,
             if_none_match: bool, content_type: str = "image/png") -> str:
        check_key(key)
        headers = {"Content-Type": content_type, "Content-Length": str(len(data)),
                   "Content-MD5": base64.b64encode(bytes.fromhex(md5_hex)).decode()}
        if if_match:
            headers["If-Match"] = self._quoted(if_match, key)
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
