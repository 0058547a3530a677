"""A scripted S3 on 127.0.0.1: answers what AWS answers, including what it answers when things
go wrong (wrong region, SlowDown, skewed clock, expired token, a denied prefix) and what a
broken or hostile server might send (CR in a header, two Content-Lengths, odd ETags).

Path-style only; one bucket; objects in memory; every request recorded with the region it was
signed for. Not a signature checker: the region is read from the credential scope.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/s3/aws4_request")
XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
REFUSALS = {"RequestTimeTooSkewed": 403, "ExpiredToken": 400, "InvalidAccessKeyId": 403}


@dataclass(frozen=True)
class Seen:
    method: str
    key: str
    region: str
    headers: dict[str, str]


class ScriptedS3(ThreadingHTTPServer):
    """Usage::

        srv = ScriptedS3(region="eu-west-1")
        srv.objects["a/b.png"] = data
        srv.wrong_region = "301"          # requests signed for another region get a 301
        ...
        srv.gets("a/b.png")               # how many GETs that key had
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, bucket: str = "scripted-bucket", region: str = "eu-west-1") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bucket, self.region = bucket, region
        self.objects: dict[str, bytes] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.wrong_region: str | None = None  # "301" | "400"
        self.slowdown: dict[str, int] = {}  # key: 503s still to answer (-1: always)
        self.retry_after = "1"
        self.refuse_all: str | None = None  # an S3 error code from REFUSALS
        self.deny_prefix: str | None = None  # GET/HEAD under it: 403 AccessDenied
        #: a listing whose ``prefix`` starts with it: 403 AccessDenied (an IAM condition on
        #: ``s3:prefix``: a listing of a shorter prefix is allowed and shows its keys)
        self.deny_list_prefix: str | None = None
        self.listing_etag: dict[str, str] = {}  # key: the ETag text the listing shows
        self.cr_header: set[str] = set()  # GETs answered with a bare CR inside a header
        self.two_lengths: set[str] = set()  # GETs answered with two Content-Length values
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def gets(self, key: str) -> int:
        with self.lock:
            return sum(1 for s in self.seen if s.method == "GET" and s.key == key)

    def per_key(self, method: str = "GET") -> Counter[str]:
        with self.lock:
            return Counter(s.key for s in self.seen if s.method == method and s.key)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ScriptedS3

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- answers --------------------------------------------------------------------------
    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
              ) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, code: str, headers: dict[str, str] | None = None,
               extra: str = "") -> None:
        body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                f"<Message>{code}</Message>{extra}<RequestId>1</RequestId></Error>").encode()
        self._send(status, body, {"Content-Type": "application/xml", **(headers or {})})

    def _raw(self, head: str, body: bytes) -> None:
        self.wfile.write(head.encode("latin-1") + b"\r\n" + body)
        self.close_connection = True

    def _handle(self, method: str) -> None:
        srv = self.server
        parts = urlsplit(self.path)
        bucket, _, key = unquote(parts.path).lstrip("/").partition("/")
        q = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        m = SCOPE.search(self.headers.get("Authorization", ""))
        region = m.group(1) if m else ""
        with srv.lock:
            srv.seen.append(Seen(method, key, region, dict(self.headers)))
        if srv.refuse_all:
            return self._error(REFUSALS[srv.refuse_all], srv.refuse_all)
        if srv.wrong_region and region != srv.region:
            where = {"x-amz-bucket-region": srv.region}
            if srv.wrong_region == "301":
                return self._error(301, "PermanentRedirect", where,
                                   f"<Endpoint>{bucket}.s3.{srv.region}.amazonaws.com</Endpoint>"
                                   f"<Bucket>{bucket}</Bucket>")
            return self._error(400, "AuthorizationHeaderMalformed", where,
                               f"<Region>{srv.region}</Region>")
        if bucket != srv.bucket:
            return self._error(404, "NoSuchBucket")
        if not key:
            return self._bucket(method, q)
        if srv.deny_prefix and key.startswith(srv.deny_prefix) and method in ("GET", "HEAD"):
            return self._error(403, "AccessDenied")
        if method == "GET" and srv.slowdown.get(key):
            with srv.lock:
                if srv.slowdown[key] > 0:
                    srv.slowdown[key] -= 1
            return self._error(503, "SlowDown", {"Retry-After": srv.retry_after})
        if method == "PUT":
            srv.objects[key] = body
            return self._send(200, b"", {"ETag": f'"{_md5(body)}"'})
        if method == "DELETE":
            srv.objects.pop(key, None)
            return self._send(204)
        data = srv.objects.get(key)
        if data is None:
            return self._error(404, "NoSuchKey")
        want = (self.headers.get("If-Match") or "").strip('"')
        if want and want != _md5(data):
            return self._error(412, "PreconditionFailed")
        etag = f'"{_md5(data)}"'
        if method == "GET" and key in srv.cr_header:  # a bare CR inside a header value
            return self._raw(f"HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Length: {len(data)}\r\n"
                             "x-amz-meta-note: fine\rx-injected: yes\r\n", data)
        if method == "GET" and key in srv.two_lengths:
            return self._raw(f"HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Length: {len(data)}\r\n"
                             f"Content-Length: {len(data) // 2}\r\n", data)
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Content-Type", "image/png")
        self.send_header("Last-Modified", "Wed, 01 Jan 2025 00:00:00 GMT")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if method == "GET":
            self.wfile.write(data)

    def _bucket(self, method: str, q: dict[str, str]) -> None:
        srv = self.server
        if method == "HEAD":
            return self._send(200, b"", {"x-amz-bucket-region": srv.region})
        if method == "PUT":
            return self._send(200)
        if q.get("list-type") != "2":
            return self._error(400, "InvalidRequest")
        prefix, after = q.get("prefix", ""), q.get("start-after", "")
        if srv.deny_list_prefix and prefix.startswith(srv.deny_list_prefix):
            return self._error(403, "AccessDenied")
        keys = sorted(k for k in srv.objects if k.startswith(prefix) and k > after)
        items = "".join(
            f"<Contents><Key>{escape(k)}</Key><Size>{len(srv.objects[k])}</Size>"
            f"<ETag>{_xml_text(srv.listing_etag.get(k, f'&quot;{_md5(srv.objects[k])}&quot;'))}"
            "</ETag><LastModified>2025-01-01T00:00:00.000Z</LastModified>"
            "<StorageClass>STANDARD</StorageClass></Contents>" for k in keys)
        body = (f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="{XMLNS}">'
                f"<Name>{srv.bucket}</Name><Prefix>{escape(prefix)}</Prefix>"
                f"<KeyCount>{len(keys)}</KeyCount><MaxKeys>1000</MaxKeys>"
                f"<IsTruncated>false</IsTruncated>{items}</ListBucketResult>").encode()
        self._send(200, body, {"Content-Type": "application/xml"})


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _xml_text(text: str) -> str:
    """Already-escaped ETags pass; CR and LF become character references (kept by parsers)."""
    return text.replace("\r", "&#13;").replace("\n", "&#10;")
