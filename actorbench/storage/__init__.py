"""Where things live: the on-disk layout, S3 keys and URLs, and the object-store port."""

from .base import ObjectInfo, ObjectStore
from .hashing import HashCache, md5_file, multipart_etag, strip_etag
from .layout import Layout, image_filename
from .urls import check_key, format_s3_url, parse_image_url, split_s3_url


def __getattr__(name: str):
    """boto3 is imported only when asked for: the lean path starts ~0.2 s faster."""
    if name == "S3Store":
        from .store import S3Store
        return S3Store
    if name == "make_s3_client":
        from .client import make_s3_client
        return make_s3_client
    raise AttributeError(name)


__all__ = ["HashCache", "Layout", "ObjectInfo", "ObjectStore", "S3Store", "check_key",
           "format_s3_url", "image_filename", "make_s3_client", "md5_file", "multipart_etag",
           "parse_image_url", "split_s3_url", "strip_etag"]
