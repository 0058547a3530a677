"""The composition root for boto3: the one place that builds a real S3 client."""

from __future__ import annotations

from typing import Any

from ..errors import CredentialsError
from ..settings import Settings


def make_s3_client(settings: Settings, workers: int | None = None,
                   check_credentials: bool = True) -> Any:
    """A shared, thread-safe client with a pool big enough for ``workers`` threads."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=settings.access_key,
        aws_secret_access_key=settings.secret_key,
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
    config = Config(max_pool_connections=pool, retries={"mode": "standard", "max_attempts": 5},
                    signature_version="s3v4",
                    connect_timeout=5, read_timeout=30, tcp_keepalive=True, **extra)
    return session.client("s3", endpoint_url=settings.endpoint_url, config=config)
