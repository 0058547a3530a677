"""S3's error answers as one line naming the setting to fix (the lean store and boto3 alike)."""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

import urllib3

from ..errors import AccessRefused, PreconditionFailed, StoreError, Unreachable
from .retry import MAX_ATTEMPTS, links, retryable_status

#: answers that mean "this bucket lives in another region" (with ``x-amz-bucket-region``)
WRONG_REGION = frozenset({"PermanentRedirect", "AuthorizationHeaderMalformed",
                          "IllegalLocationConstraintException"})


def explain(status: int, code: str, where: str, bucket: str, region: str = "",
            retried: bool = False) -> StoreError:
    """The error for an S3 answer; ``status`` is kept on it, permanence says if a retry helps.

    Usage::

        raise explain(403, "ExpiredToken", "s3://b/k", "b")
    """
    what = code or f"HTTP {status}"
    err: StoreError
    if status == 412 or code == "PreconditionFailed":
        err = PreconditionFailed(f"{where} changed since it was listed.")
    elif code == "ConditionalRequestConflict":
        err = PreconditionFailed(f"{where} was written by someone else at the same time.")
    elif code == "RequestTimeTooSkewed":
        err = AccessRefused("S3 refused the request: this machine's clock is more than 15 "
                            "minutes off S3's (RequestTimeTooSkewed); set the system clock "
                            "right (turn on NTP time sync).", True)
    elif code in ("ExpiredToken", "TokenRefreshRequired"):
        err = AccessRefused(f"Access to {where} was refused: the session token has expired "
                            f"({code}); put fresh temporary credentials in AWS_ACCESS_KEY_ID, "
                            "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, or use AWS_PROFILE.",
                            True)
    elif code == "InvalidToken":
        err = AccessRefused(f"Access to {where} was refused (InvalidToken): AWS_SESSION_TOKEN "
                            "is not valid for AWS_ACCESS_KEY_ID; set both from the same "
                            "credentials, or unset AWS_SESSION_TOKEN.", True)
    elif code == "InvalidAccessKeyId":
        err = AccessRefused(f"Access to {where} was refused (InvalidAccessKeyId): S3 does not "
                            "know the key in AWS_ACCESS_KEY_ID; check it.", True)
    elif code == "SignatureDoesNotMatch":
        err = AccessRefused(f"Access to {where} was refused (SignatureDoesNotMatch): "
                            "AWS_SECRET_ACCESS_KEY does not belong to AWS_ACCESS_KEY_ID; "
                            "check it.", True)
    elif code == "NoSuchBucket":
        err = StoreError(f"Bucket {bucket!r} does not exist on this S3 server: check "
                         "ACTORBENCH_BUCKET (and AWS_ENDPOINT_URL).", True)
    elif code in WRONG_REGION or status == 301:
        err = AccessRefused(f"Bucket {bucket!r} is not in region {region or '?'} ({what}), and "
                            "S3 did not say where it is: set AWS_REGION to the bucket's "
                            "region.", True)
    elif status == 403 or code == "AccessDenied":
        err = AccessRefused(f"Access to {where} was refused ({what}): the credentials "
                            "(AWS_ACCESS_KEY_ID or AWS_PROFILE) lack permission there; check "
                            "the IAM and bucket policies, ACTORBENCH_BUCKET and "
                            "ACTORBENCH_PREFIX.", True)
    elif status == 404 or code in ("NoSuchKey", "NotFound"):
        err = StoreError(f"{where} does not exist.", True)
    elif retryable_status(status, code):
        tail = f" (after {MAX_ATTEMPTS} attempts)" if retried else ""
        err = Unreachable(f"S3 error on {where}: {what}{tail}.")
    else:
        err = StoreError(f"S3 error on {where}: {what}.", status < 500)
    err.status = status  # type: ignore[attr-defined]
    err.code = code  # type: ignore[attr-defined]
    return err


def network_error(exc: Exception, where: str, endpoint: str, proxy: str | None,
                  retried: bool) -> StoreError:
    """One line for a urllib3 request that got no answer, naming the setting that may be
    wrong (the proxy, the CA bundle, the endpoint)."""
    u3 = urllib3.exceptions
    tail = " (after retries)" if retried else ""
    if isinstance(exc, u3.ProxyError):
        return Unreachable(f"Cannot reach S3 through the proxy {_without_password(proxy)} "
                           "(HTTPS_PROXY / HTTP_PROXY): is it running, and is the setting "
                           f"right? Hosts that need no proxy go in NO_PROXY.{tail}")
    if isinstance(exc, u3.SSLError):
        why = next((str(link.verify_message) for link in links(exc)
                    if isinstance(link, ssl.SSLCertVerificationError)), "")
        return Unreachable(f"The TLS certificate of {endpoint} was not accepted"
                           f"{f' ({why})' if why else ''}: if it is signed by a private "
                           "CA, set AWS_CA_BUNDLE to that CA's PEM file.", True)
    if isinstance(exc, u3.NewConnectionError):
        return Unreachable(f"Cannot reach the S3 server at {endpoint}: is it running, and is "
                           f"AWS_ENDPOINT_URL right?{tail}")
    return Unreachable(f"S3 request for {where} failed: {type(exc).__name__}.{tail}")


def _without_password(url: str | None) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.hostname}:{parts.port}" if parts.hostname else "?"
