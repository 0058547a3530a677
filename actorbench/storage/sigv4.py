"""AWS Signature Version 4 for S3 requests and presigned URLs (the parts actorbench uses)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import quote

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED = "UNSIGNED-PAYLOAD"


def uri_encode(text: str, safe: str = "-_.~") -> str:
    return quote(text, safe=safe)


def canonical_query(params: dict[str, str]) -> str:
    return "&".join(f"{uri_encode(k)}={uri_encode(v)}" for k, v in sorted(params.items()))


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str = "s3") -> bytes:
    k = _hmac(f"AWS4{secret}".encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


class Signer:
    """Signs S3 requests; caches the day's signing key.

    Usage::

        headers = Signer(key, secret, "us-west-1").sign("GET", "host:9000", "/b/k", {}, {})
    """

    def __init__(self, access_key: str, secret_key: str, region: str,
                 session_token: str | None = None) -> None:
        self.access_key, self._secret, self.region = access_key, secret_key, region
        self.token = session_token
        self._key: tuple[str, bytes] | None = None

    def __repr__(self) -> str:
        return f"Signer({self.region!r})"

    def _day_key(self, date: str) -> bytes:
        if self._key is None or self._key[0] != date:
            self._key = (date, signing_key(self._secret, date, self.region))
        return self._key[1]

    def sign(self, method: str, host: str, path: str, query: dict[str, str],
             headers: dict[str, str], payload_hash: str = EMPTY_SHA256,
             now: datetime | None = None) -> dict[str, str]:
        """Return ``headers`` plus x-amz-date, x-amz-content-sha256 and Authorization."""
        now = now or datetime.now(UTC)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        date = amz_date[:8]
        out = dict(headers)
        out["x-amz-date"] = amz_date
        out["x-amz-content-sha256"] = payload_hash
        if self.token:
            out["x-amz-security-token"] = self.token
        signed = {"host": host, **{k.lower(): v for k, v in out.items()
                                   if k.lower().startswith("x-amz-")}}
        names = sorted(signed)
        canonical = "\n".join([
            method, uri_encode(path, safe="/-_.~"), canonical_query(query),
            "".join(f"{n}:{str(signed[n]).strip()}\n" for n in names), ";".join(names),
            payload_hash])
        scope = f"{date}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        sig = hmac.new(self._day_key(date), to_sign.encode(), hashlib.sha256).hexdigest()
        out["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
                                f"SignedHeaders={';'.join(names)}, Signature={sig}")
        return out

    def presign(self, scheme: str, host: str, path: str, expires: int,
                now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        date = amz_date[:8]
        scope = f"{date}/{self.region}/s3/aws4_request"
        query = {"X-Amz-Algorithm": "AWS4-HMAC-SHA256",
                 "X-Amz-Credential": f"{self.access_key}/{scope}", "X-Amz-Date": amz_date,
                 "X-Amz-Expires": str(int(expires)), "X-Amz-SignedHeaders": "host"}
        if self.token:
            query["X-Amz-Security-Token"] = self.token
        canonical = "\n".join(["GET", uri_encode(path, safe="/-_.~"), canonical_query(query),
                               f"host:{host}\n", "host", UNSIGNED])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        sig = hmac.new(self._day_key(date), to_sign.encode(), hashlib.sha256).hexdigest()
        return (f"{scheme}://{host}{uri_encode(path, safe='/-_.~')}?{canonical_query(query)}"
                f"&X-Amz-Signature={sig}")
