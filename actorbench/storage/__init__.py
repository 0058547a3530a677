"""Where things live: the on-disk layout, S3 keys and URLs, and the object-store port."""

from .._lazy import lazy
from .base import ObjectInfo, ObjectStore
from .hashing import HashCache, md5_file, multipart_etag, strip_etag
from .layout import Layout, image_filename
from .urls import check_key, format_s3_url, parse_image_url, split_s3_url

# boto3 is imported only when asked for: the lean path starts ~0.2 s faster
__getattr__, _ = lazy(__name__, {"S3Store": ".store", "make_s3_client": ".client"})


__all__ = ["HashCache", "Layout", "ObjectInfo", "ObjectStore", "S3Store", "check_key",
           "format_s3_url", "image_filename", "make_s3_client", "md5_file", "multipart_etag",
           "parse_image_url", "split_s3_url", "strip_etag"]
