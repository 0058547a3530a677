"""The object-store port and its boto3 implementation."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from ..errors import (
    AccessRefused,
    CredentialsError,
    PreconditionFailed,
    StoreError,
    Unreachable,
)
from ..fsutil import open_regular
from .base import ObjectInfo, ObjectStore, StoreDefaults, read_body  # noqa: F401 - re-exported
from .hashing import strip_etag
from .urls import check_key


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def translate(exc: Exception, bucket: str, key: str = "") -> Exception:
    """Turn a boto error into one sentence a user can act on (no secrets, no traceback)."""
    where = f"s3://{bucket}/{key}" if key else f"bucket {bucket!r}"
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return CredentialsError()
    if isinstance(exc, EndpointConnectionError):
        return Unreachable(f"Cannot reach the S3 server at {exc.kwargs.get('endpoint_url', '?')}"
                           ": is it running, and is AWS_ENDPOINT_URL right?")
    if isinstance(exc, ClientError):
        code, status = _code(exc), _status(exc)
        if code in ("PreconditionFailed", "412") or status == 412:
            return PreconditionFailed(f"{where} changed since it was listed.")
        if code == "NoSuchBucket":
            return StoreError(f"Bucket {bucket!r} does not exist on this S3 server.", True)
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403") \
                or status == 403:
            return AccessRefused(f"Access to {where} was refused ({code or status}): check "
                                 "the AWS credentials and the bucket policy.", True)
        if code in ("NoSuchKey", "404") or status == 404:
            return StoreError(f"{where} does not exist.", True)
        if code == "ConditionalRequestConflict" or status == 409:
            return PreconditionFailed(f"{where} was written by someone else at the same time.")
        if status >= 500:  # still failing after botocore's retries
            return Unreachable(f"S3 error on {where}: {code or status}.")
        return StoreError(f"S3 error on {where}: {code or status}.")
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):  # timeouts, resets
        return Unreachable(f"S3 request for {where} failed: {type(exc).__name__}.")
    if isinstance(exc, BotoCoreError):
        return StoreError(f"S3 request for {where} failed: {type(exc).__name__}.")
    return exc


class S3Store(StoreDefaults):
    """An ``ObjectStore`` over one bucket, given a ready boto3 S3 client.

    Usage::

        store = S3Store(make_s3_client(settings), settings.bucket)
        for info in store.list("system_actors/training_data/0002_european_35_female/"): ...
    """

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        """Objects under ``prefix`` in key order (after ``start_after``), page by page."""
        extra = {"StartAfter": start_after} if start_after else {}
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": 1000},
                **extra)
            for page in pages:
                for obj in page.get("Contents", []):
                    yield ObjectInfo(obj["Key"], int(obj["Size"]), strip_etag(obj.get("ETag")),
                                     obj.get("LastModified"))
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, self.bucket, prefix) from None

    def head(self, key: str) -> ObjectInfo | None:
        check_key(key)
        try:
            r = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _status(exc) == 404 or _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise translate(exc, self.bucket, key) from None
        except BotoCoreError as exc:
            raise translate(exc, self.bucket, key) from None
        return ObjectInfo(key, int(r["ContentLength"]), strip_etag(r.get("ETag")),
                          r.get("LastModified"))

    def open_get(self, key: str, if_match: str | None = None) -> tuple[Any, ObjectInfo]:
        """Start a GET; returns the streaming body and what the server says of the object."""
        check_key(key)
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if if_match:
            kwargs["IfMatch"] = f'"{strip_etag(if_match)}"'
        try:
            r = self.client.get_object(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, self.bucket, key) from None
        return r["Body"], ObjectInfo(key, int(r["ContentLength"]), strip_etag(r.get("ETag")),
                                     r.get("LastModified"))

    def put_file(self, key: str, path: Path, md5_hex: str, if_match: str | None = None,
                 if_none_match: bool = False) -> str:
        """Upload with Content-MD5 and a write condition; returns the new ETag."""
        check_key(key)
        kwargs: dict[str, Any] = {
            "Bucket": self.bucket, "Key": key, "ContentType": "image/png",
            "ContentMD5": base64.b64encode(bytes.fromhex(md5_hex)).decode(),
        }
        if if_match:
            kwargs["IfMatch"] = f'"{strip_etag(if_match)}"'
        elif if_none_match:
            kwargs["IfNoneMatch"] = "*"
        try:
            with open_regular(path) as fh:  # a symlink is never uploaded
                r = self.client.put_object(Body=fh, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, self.bucket, key) from None
        return strip_etag(r.get("ETag"))

    def put_bytes(self, key: str, data: bytes, content_type: str = "image/png") -> str:
        check_key(key)
        md5 = hashlib.md5(data, usedforsecurity=False).digest()
        try:
            r = self.client.put_object(Bucket=self.bucket, Key=key, Body=data,
                                       ContentType=content_type,
                                       ContentMD5=base64.b64encode(md5).decode())
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, self.bucket, key) from None
        return strip_etag(r.get("ETag"))

    def delete(self, key: str) -> None:
        check_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, self.bucket, key) from None

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
