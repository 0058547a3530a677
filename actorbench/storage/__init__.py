"""Where things live: the on-disk layout, S3 keys and URLs, and the object-store port."""

from .client import make_s3_client
from .hashing import HashCache, md5_file, multipart_etag, strip_etag
from .layout import Layout, image_filename
from .store import ObjectInfo, ObjectStore, S3Store
from .urls import check_key, format_s3_url, parse_image_url, split_s3_url

__all__ = ["HashCache", "Layout", "ObjectInfo", "ObjectStore", "S3Store", "check_key",
           "format_s3_url", "image_filename", "make_s3_client", "md5_file", "multipart_etag",
           "parse_image_url", "split_s3_url", "strip_etag"]
