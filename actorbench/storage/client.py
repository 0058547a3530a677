"""The composition root for boto3: the one place that builds a real S3 client."""

from __future__ import annotations

import logging
from typing import Any

from ..errors import CredentialsError
from ..settings import Settings
from .net import Proxies, address
from .retry import MAX_ATTEMPTS

log = logging.getLogger("actorbench.storage")


def make_s3_client(settings: Settings, workers: int | None = None,
                   check_credentials: bool = True, attempts: int = MAX_ATTEMPTS) -> Any:
    """A shared, thread-safe client with a pool big enough for ``workers`` threads.

    ``attempts``: botocore's own tries per call. The client under ``S3Store`` is made with 1
    (``Workbench.client``): the store retries with ``storage.retry``'s policy, so retries never
    nest; a client used directly keeps botocore's retries.
    """
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=settings.access_key,
        aws_secret_access_key=settings.secret_key,
        aws_session_token=settings.session_token if settings.access_key else None,
        region_name=settings.region,
        profile_name=settings.profile if not settings.access_key else None,
    )
    if check_credentials and session.get_credentials() is None:
        raise CredentialsError()
    pool = max(10, (workers or settings.workers) + 4)
    extra: dict[str, Any] = {}
    if settings.endpoint_url:
        # S3-compatible servers: path-style, and no default CRC32 checksums (botocore #3352).
        extra = {"s3": {"addressing_style": "path"},
                 "request_checksum_calculation": "when_required",
                 "response_checksum_validation": "when_required"}
    where = address(settings.bucket, settings.region, settings.endpoint_url).endpoint
    proxy = Proxies.from_settings(settings).for_url(where)
    if proxy:  # the proxy the lean store would use (HTTPS_PROXY / HTTP_PROXY / NO_PROXY)
        extra["proxies"] = {"https": proxy, "http": proxy}
    # (with 1, botocore still follows a bucket's region on a redirect)
    config = Config(max_pool_connections=pool, retries={"mode": "standard",
                                                        "total_max_attempts": attempts},
                    signature_version="s3v4",
                    connect_timeout=5, read_timeout=30, tcp_keepalive=True, **extra)
    # verify: AWS_CA_BUNDLE from the settings (a .env too), else botocore's default
    client = session.client("s3", endpoint_url=settings.endpoint_url, config=config,
                            verify=settings.ca_bundle or None)
    tell_region_once(client, settings.bucket)
    return client


def tell_region_once(client: Any, bucket: str) -> None:
    """Warn once when S3 says the bucket lives in another region than the client's.

    botocore follows the redirect itself (and remembers the region), so nothing fails, but
    every new client pays the detour: the user is told the setting that avoids it, once per
    client, as the lean store does."""
    told: set[str] = set()
    configured = client.meta.region_name

    def check(response: Any = None, **_: Any) -> None:
        if not response:
            return
        headers = getattr(response[0], "headers", None) or {}
        region = headers.get("x-amz-bucket-region")
        if region and region != configured and region not in told:
            told.add(region)
            log.warning("Bucket %r is in region %s, not %s (AWS_REGION; S3 said so with "
                        "x-amz-bucket-region): botocore follows it. Set AWS_REGION=%s to "
                        "skip this detour.", bucket, region, configured, region)

    client.meta.events.register("needs-retry.s3", check, unique_id="actorbench-region-told")
