"""The worker's failures: a job that cannot succeed, a job stopped, and any exception as the
contract's one line (what failed, what to do)."""

from __future__ import annotations

import errno

from . import models


class JobError(Exception):
    """A job that cannot succeed; the message is what the user sees in actorbench."""


class Stopped(Exception):
    """The job was stopped (a cancel or a time limit); nothing more is done or uploaded."""


def one_line(exc: BaseException, bucket: str = "") -> str:
    """Any failure as the contract's one line: what failed and what to do."""
    if isinstance(exc, (JobError, models.StoreError)):
        text = str(exc)
    else:
        code, msg = "", str(exc)
        resp = getattr(exc, "response", None)
        if isinstance(resp, dict):
            err = resp.get("Error") or {}
            code, msg = str(err.get("Code") or ""), str(err.get("Message") or msg)
            b = err.get("BucketName") or bucket
            if code == "NoSuchBucket":
                text = (f"upload failed: the bucket {b} does not exist (NoSuchBucket); "
                        "create it or fix ACTORBENCH_WORKER_BUCKET on the endpoint")
            elif code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                text = (f"S3 refused the worker ({code}) on bucket {b}: check the endpoint's "
                        "AWS credentials and their policy")
            else:
                text = f"S3 error {code}: {msg}"
        elif isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            text = "the worker's disk is full: use a larger container disk or fewer images"
        else:
            text = f"the worker failed: {type(exc).__name__}: {msg}"
    line = " ".join(text.split())
    return line if len(line) <= 400 else line[:399] + "…"
