"""The job's images, fetched as untrusted input: only presigned GETs of the worker's bucket on
its endpoint, streamed to disk under size caps, checked against the ETags actorbench listed;
and the only place the job may upload to."""

from __future__ import annotations

import hashlib
import math
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .config import MIB, WorkerConfig
from .contract import SAFE_NAME
from .errors import JobError

DOWNLOAD_TIMEOUT_S = 60
#: the multipart part sizes tried for an ``-N`` ETag (boto3 and the aws CLI: 8 MiB; rclone and
#: S3's minimum: 5 MiB)
PART_SIZES_MIB = (5, 8, 16, 32, 64, 100, 128)


def output_prefix(job: dict[str, Any], config: WorkerConfig) -> str:
    """The job's own ``[parents/]loras/<actor>/<version id>`` prefix in the worker's bucket."""
    out = job["output"]
    if out["bucket"] != config.bucket:
        raise JobError(f"output/bucket: {out['bucket'][:64]!r} is not this worker's bucket "
                       f"({config.bucket}); the worker uploads only there")
    ep = out.get("endpoint_url")
    if ep and (config.endpoint_url or "").rstrip("/") != ep.rstrip("/"):
        raise JobError("output/endpoint_url: not this worker's S3 endpoint; the worker "
                       "uploads only there")
    prefix = out["prefix"].strip("/")
    parts = prefix.split("/")
    ok = (len(parts) >= 3 and parts[-3] == "loras" and parts[-2] == job["actor"]
          and re.match(SAFE_NAME, parts[-1]) is not None and parts[-1] not in (".", "..")
          and all(re.match(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$", p) for p in parts[:-3]))
    if not ok:
        raise JobError(f"output/prefix: {prefix[:80]!r} is not loras/{job['actor']}/<version> "
                       "(under a parent folder); the worker uploads only there")
    return prefix


def check_image_url(url: str, config: WorkerConfig) -> None:
    """A presigned GET of an object in the worker's bucket on its S3 endpoint, or JobError."""
    u = urlsplit(url)
    q = parse_qs(u.query)
    signed = ("X-Amz-Signature" in q and "X-Amz-Credential" in q) or (
        "Signature" in q and "AWSAccessKeyId" in q)
    b = config.bucket
    if config.endpoint_url:
        e = urlsplit(config.endpoint_url)
        here = (u.scheme, u.netloc) == (e.scheme, e.netloc) and (
            u.path.startswith(f"/{b}/") or u.netloc.startswith(f"{b}."))
    else:
        hosts = {f"{b}.s3.{config.region}.amazonaws.com", f"{b}.s3.amazonaws.com"}
        here = u.scheme == "https" and (
            u.netloc in hosts or (u.netloc in (f"s3.{config.region}.amazonaws.com",
                                               "s3.amazonaws.com")
                                  and u.path.startswith(f"/{b}/")))
    if not here or not signed or u.username or u.password or u.fragment:
        raise JobError("images/url: not a presigned URL of this worker's bucket on its S3 "
                       "endpoint; the worker fetches nothing else")


def download(image: dict[str, Any], target: Path, config: WorkerConfig,
              budget: list[int]) -> None:
    """GET a presigned URL into ``target``, streamed under the size caps; its bytes must be
    the ETag actorbench listed."""
    import requests

    check_image_url(image["url"], config)
    last = ""
    for attempt in range(3):
        try:
            with requests.get(image["url"], timeout=DOWNLOAD_TIMEOUT_S, stream=True,
                              allow_redirects=False) as r:
                if r.status_code != 200:
                    last = f"HTTP {r.status_code}"
                    if r.status_code in (403, 404):  # an expired URL or a deleted object
                        break
                    raise requests.ConnectionError(last)
                _save(r, image, target, config, budget)
                return
        except requests.RequestException as exc:
            last = last if last.startswith("HTTP") else type(exc).__name__
        time.sleep(0.5 * 2 ** attempt)
    raise JobError(f"{image['name']}: download failed ({last})")


def _save(r: Any, image: dict[str, Any], target: Path, config: WorkerConfig,
          budget: list[int]) -> None:
    cap = min(config.max_image_bytes, budget[0])
    declared = r.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise JobError(f"{image['name']}: {int(declared)} bytes is over the worker's cap of "
                       f"{cap} bytes")
    md5 = hashlib.md5(usedforsecurity=False)
    parts: list[bytes] = []  # MD5s of 1 MiB blocks, for a multipart ETag
    size = 0
    with target.open("wb") as f:
        block = hashlib.md5(usedforsecurity=False)
        in_block = 0
        for chunk in r.iter_content(64 * 1024):
            size += len(chunk)
            if size > cap:
                raise JobError(f"{image['name']}: over the worker's cap of {cap} bytes")
            f.write(chunk)
            md5.update(chunk)
            view = memoryview(chunk)
            while view:
                take = min(len(view), MIB - in_block)
                block.update(view[:take])
                in_block += take
                view = view[take:]
                if in_block == MIB:
                    parts.append(block.digest())
                    block, in_block = hashlib.md5(usedforsecurity=False), 0
        if in_block:
            parts.append(block.digest())
    budget[0] -= size
    etag = image["etag"]
    if image.get("size") is not None and image["size"] != size:
        raise JobError(f"{image['name']}: {size} bytes, actorbench listed {image['size']}")
    if "-" not in etag:
        ok = md5.hexdigest() == etag
    else:
        ok = _multipart_matches(target, etag, size)
    if not ok:
        raise JobError(f"{image['name']}: the bytes do not match the ETag actorbench listed "
                       "(the image changed since the launch)")


def _multipart_matches(path: Path, etag: str, size: int) -> bool:
    """Whether a multipart ``md5-of-md5s-N`` ETag is these bytes, for a usual part size."""
    digest, _, count = etag.partition("-")
    n = int(count)
    for mib in PART_SIZES_MIB:
        part = mib * MIB
        if math.ceil(size / part) != n:
            continue
        h = hashlib.md5(usedforsecurity=False)
        with path.open("rb") as f:
            while chunk := f.read(part):
                h.update(hashlib.md5(chunk, usedforsecurity=False).digest())
        if h.hexdigest() == digest:
            return True
    return False
