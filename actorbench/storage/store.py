"""The object-store port and its boto3 implementation."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ProxyConnectionError,
    SSLError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from ..errors import CredentialsError, StoreError, Unreachable
from ..fsutil import open_regular
from .base import (  # noqa: F401 - re-exported
    ObjectInfo,
    ObjectStore,
    StoreDefaults,
    content_type_of,
    read_body,
)
from .hashing import strip_etag, valid_etag
from .retry import DEFAULT, RetryPolicy, is_transient, retry_after, retryable_status
from .s3errors import explain
from .urls import check_key


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def translate(exc: Exception, bucket: str, key: str = "", retried: bool = False) -> Exception:
    """Turn a boto error into one sentence a user can act on (no secrets, no traceback)."""
    where = f"s3://{bucket}/{key}" if key else f"bucket {bucket!r}"
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return CredentialsError()
    if isinstance(exc, ProxyConnectionError):
        return Unreachable("Cannot reach S3 through the proxy in HTTPS_PROXY / HTTP_PROXY: is "
                           "it running, and is the setting right? Hosts that need no proxy go "
                           "in NO_PROXY.")
    if isinstance(exc, SSLError):
        return Unreachable(f"The TLS certificate of {exc.kwargs.get('endpoint_url', 'S3')} was "
                           "not accepted: if it is signed by a private CA, set AWS_CA_BUNDLE "
                           "to that CA's PEM file.", True)
    if isinstance(exc, EndpointConnectionError):
        return Unreachable(f"Cannot reach the S3 server at {exc.kwargs.get('endpoint_url', '?')}"
                           ": is it running, and is AWS_ENDPOINT_URL right?")
    if isinstance(exc, ClientError):
        code, status = _code(exc), _status(exc)
        err = explain(status, "" if code.isdigit() else code, where, bucket,
                      str(exc.response.get("Error", {}).get("Region", "")), retried)
        err.retry_after = retry_after(_headers(exc).get("retry-after"))  # type: ignore[attr-defined]
        return err
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):  # timeouts, resets
        return Unreachable(f"S3 request for {where} failed: {type(exc).__name__}.")
    if isinstance(exc, BotoCoreError):
        return StoreError(f"S3 request for {where} failed: {type(exc).__name__}.")
    return exc


def _headers(exc: ClientError) -> dict[str, str]:
    return exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}) or {}


def _worth_retrying(exc: Exception) -> bool:
    if isinstance(exc, ClientError):
        code = _code(exc)
        return retryable_status(_status(exc), code)
    return is_transient(exc)


class S3Store(StoreDefaults):
    """An ``ObjectStore`` over one bucket, given a ready boto3 S3 client.

    Usage::

        store = S3Store(make_s3_client(settings), settings.bucket)
        for info in store.list("system_actors/training_data/0002_european_35_female/"): ...
    """

    def __init__(self, client: Any, bucket: str, policy: RetryPolicy = DEFAULT) -> None:
        self.client = client
        self.bucket = bucket
        self.policy = policy

    def _call(self, op: Callable[..., Any], key: str = "", **kwargs: Any) -> Any:
        """One client call with ``retry``'s policy (the client itself tries once:
        ``client.make_s3_client``); errors become one sentence."""
        attempts = self.policy.attempts_per_call()
        for attempt in range(attempts):
            try:
                return op(**kwargs)
            except (ClientError, BotoCoreError) as exc:
                if attempt + 1 < attempts and _worth_retrying(exc):
                    wait = retry_after(_headers(exc).get("retry-after")) if isinstance(
                        exc, ClientError) else None
                    time.sleep(self.policy.delay(attempt, wait))
                    continue
                raise translate(exc, self.bucket, key, attempts > 1) from None
        raise AssertionError("unreachable")

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        """Objects under ``prefix`` in key order (after ``start_after``), page by page."""
        # botocore asks for encoding-type=url itself and decodes the keys (a key may hold
        # characters XML cannot carry); passing EncodingType here would turn its decoding off
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "MaxKeys": 1000}
        if start_after:
            kwargs["StartAfter"] = start_after
        while True:
            page = self._call(self.client.list_objects_v2, prefix, **kwargs)
            for obj in page.get("Contents", []):
                yield ObjectInfo(obj["Key"], int(obj["Size"]), strip_etag(obj.get("ETag")),
                                 obj.get("LastModified"))
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            if token == kwargs.get("ContinuationToken"):  # a broken server: never loop
                raise StoreError(f"s3://{self.bucket}/{prefix}: the server answered the same "
                                 "listing page twice.", permanent=True)
            kwargs.pop("StartAfter", None)
            kwargs["ContinuationToken"] = token

    def head(self, key: str) -> ObjectInfo | None:
        check_key(key)
        try:
            r = self._call(self.client.head_object, key, Bucket=self.bucket, Key=key)
        except StoreError as exc:
            if getattr(exc, "status", 0) == 404:
                return None
            raise
        return ObjectInfo(key, int(r["ContentLength"]), strip_etag(r.get("ETag")),
                          r.get("LastModified"))

    def open_get(self, key: str, if_match: str | None = None) -> tuple[Any, ObjectInfo]:
        """Start a GET; returns the streaming body and what the server says of the object."""
        check_key(key)
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if if_match:
            kwargs["IfMatch"] = self._quoted(if_match, key)
        r = self._call(self.client.get_object, key, **kwargs)
        return r["Body"], ObjectInfo(key, int(r["ContentLength"]), strip_etag(r.get("ETag")),
                                     r.get("LastModified"))

    def put_file(self, key: str, path: Path, md5_hex: str, if_match: str | None = None,
                 if_none_match: bool = False) -> str:
        """Upload with Content-MD5 and a write condition; returns the new ETag."""
        check_key(key)
        kwargs: dict[str, Any] = {
            "Bucket": self.bucket, "Key": key, "ContentType": content_type_of(key),
            "ContentMD5": base64.b64encode(bytes.fromhex(md5_hex)).decode(),
        }
        if if_match:
            kwargs["IfMatch"] = self._quoted(if_match, key)
        elif if_none_match:
            kwargs["IfNoneMatch"] = "*"
        with open_regular(path) as fh:  # a symlink is never uploaded
            data = fh.read()
        r = self._call(self.client.put_object, key, Body=data, **kwargs)
        return strip_etag(r.get("ETag"))

    def _quoted(self, etag: str, key: str) -> str:
        """``"etag"`` for If-Match: only an ETag of the form S3 makes is ever sent back."""
        if not valid_etag(etag):
            raise StoreError(f"s3://{self.bucket}/{key}: the server gave an ETag that is not a "
                             f"hex digest ({etag[:40]!r}); not sending it back.", True)
        return f'"{strip_etag(etag)}"'

    def put_bytes(self, key: str, data: bytes, content_type: str = "image/png") -> str:
        return self.put_bytes_if(key, data, content_type=content_type)

    def put_bytes_if(self, key: str, data: bytes, if_match: str | None = None,
                     if_none_match: bool = False,
                     content_type: str = "application/json") -> str:
        """``put_bytes`` with a write condition (``PreconditionFailed`` when it fails)."""
        check_key(key)
        md5 = hashlib.md5(data, usedforsecurity=False).digest()
        kwargs: dict[str, Any] = {}
        if if_match:
            kwargs["IfMatch"] = self._quoted(if_match, key)
        elif if_none_match:
            kwargs["IfNoneMatch"] = "*"
        r = self._call(self.client.put_object, key, Bucket=self.bucket, Key=key, Body=data,
                       ContentType=content_type, ContentMD5=base64.b64encode(md5).decode(),
                       **kwargs)
        return strip_etag(r.get("ETag"))

    def get_bytes(self, key: str) -> tuple[bytes, str] | None:
        """A small object's bytes and ETag in one GET; None when there is no such object."""
        check_key(key)
        try:
            r = self._call(self.client.get_object, key, Bucket=self.bucket, Key=key)
            return r["Body"].read(), strip_etag(r.get("ETag"))
        except StoreError as exc:
            if getattr(exc, "status", 0) == 404:
                return None
            raise
        except BotoCoreError as exc:  # the body read
            raise translate(exc, self.bucket, key) from None

    def delete(self, key: str) -> None:
        check_key(key)
        self._call(self.client.delete_object, key, Bucket=self.bucket, Key=key)

    def presign_get(self, key: str, expires: int = 3600) -> str:
        check_key(key)
        return str(self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires))

    def ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            region = self.client.meta.region_name
            extra = ({} if region in (None, "us-east-1") else
                     {"CreateBucketConfiguration": {"LocationConstraint": region}})
            try:
                self.client.create_bucket(Bucket=self.bucket, **extra)
            except (ClientError, BotoCoreError) as exc:
                raise translate(exc, self.bucket) from None
        except BotoCoreError as exc:
            raise translate(exc, self.bucket) from None
