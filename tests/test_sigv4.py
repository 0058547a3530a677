"""Our SigV4 signer agrees with botocore's, byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from actorbench.storage.sigv4 import EMPTY_SHA256, Signer, canonical_query, uri_encode


def stamp(amz_date: str) -> datetime:
    return datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


@pytest.mark.parametrize("method,path,query,payload,token", [
    ("GET", "/bucket", {"list-type": "2", "prefix": "a b/ü", "max-keys": "1000"}, EMPTY_SHA256,
     None),
    ("GET", "/bucket/system_actors/x/0002_e_3_f_1.png", {}, EMPTY_SHA256, "tok"),
    ("PUT", "/bucket/k with space+plus.png", {}, EMPTY_SHA256, None),  # UNSIGNED: contract tests
    ("HEAD", "/bucket/k", {}, EMPTY_SHA256, None),
])
def test_header_signature_matches_botocore(method, path, query, payload, token):
    host = "127.0.0.1:9000"
    url = f"https://{host}{uri_encode(path, safe='/-_.~')}"  # botocore signs payloads over http
    if query:
        url += "?" + canonical_query(query)
    req = AWSRequest(method=method, url=url, headers={"x-amz-content-sha256": payload})
    S3SigV4Auth(Credentials("AKID", "SECRET", token), "s3", "us-west-1").add_auth(req)
    ours = Signer("AKID", "SECRET", "us-west-1", token).sign(
        method, host, path, query, {}, payload, now=stamp(req.headers["X-Amz-Date"]))
    assert ours["Authorization"] == req.headers["Authorization"]


def test_presign_matches_botocore():
    host = "bucket.s3.us-west-1.amazonaws.com"
    req = AWSRequest(method="GET", url=f"https://{host}/a/b%20c.png")
    S3SigV4QueryAuth(Credentials("AKID", "SECRET"), "s3", "us-west-1",
                     expires=3600).add_auth(req)
    amz_date = req.url.split("X-Amz-Date=")[1].split("&")[0]
    ours = Signer("AKID", "SECRET", "us-west-1").presign("https", host, "/a/b c.png", 3600,
                                                         now=stamp(amz_date))
    assert ours.split("X-Amz-Signature=")[1] == req.url.split("X-Amz-Signature=")[1]


def test_secret_never_in_repr():
    assert "SECRET" not in repr(Signer("AKID", "SECRET", "us-west-1"))
