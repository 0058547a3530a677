"""The doctor's S3 checks: endpoint, bucket, region, clock, list, get, put, actor folders.

They run through one boto3 client of their own, not the sync store: it has short timeouts and
no retries (a dead endpoint costs one connect timeout, not a sync's patient retries), and it
shows what the checks need: response headers (``x-amz-bucket-region``, ``Date``) and S3 error
codes (``InvalidAccessKeyId`` and ``SignatureDoesNotMatch`` name different settings).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from ..actors.model import check_actor_name
from ..errors import UnsafePathError
from ..settings import Settings
from ..sync.files import printable
from .checks import CONFIG, ENVIRONMENT, FAIL, OK, WARN, Check, Origin

CONNECT_TIMEOUT_S, READ_TIMEOUT_S = 3.0, 5.0
#: SigV4 requests more than 5 minutes off the server's clock fail (RequestTimeTooSkewed)
MAX_SKEW_S = 300


def probe_client(s: Settings, signed: bool = True) -> Any:
    """A boto3 client for the checks: short timeouts, one attempt; unsigned without
    credentials (the bucket's region and the server's clock can still be read)."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=s.access_key, aws_secret_access_key=s.secret_key,
        aws_session_token=s.session_token if s.access_key else None, region_name=s.region,
        profile_name=s.profile if signed and not s.access_key else None)
    extra: dict[str, Any] = {}
    if s.endpoint_url:  # as storage.client does for S3-compatible servers
        extra = {"s3": {"addressing_style": "path"},
                 "request_checksum_calculation": "when_required",
                 "response_checksum_validation": "when_required"}
    from ..storage.net import Proxies, address

    proxy = Proxies.from_settings(s).for_url(address(s.bucket, s.region, s.endpoint_url).endpoint)
    if proxy:  # as sync reaches S3: the same proxy and CA bundle
        extra["proxies"] = {"https": proxy, "http": proxy}
    config = Config(connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S,
                    retries={"mode": "standard", "total_max_attempts": 1},
                    signature_version="s3v4" if signed else UNSIGNED, **extra)
    return session.client("s3", endpoint_url=s.endpoint_url, config=config,
                          verify=s.ca_bundle or None)


class _Stop(Exception):  # the row that makes the remaining S3 checks moot
    def __init__(self, check: Check) -> None:
        self.check = check


class S3Checks:
    """Usage::

        rows = S3Checks(probe_client(settings), settings, origins).run(write=False, known=None)
    """

    def __init__(self, client: Any, s: Settings, origins: Mapping[str, Origin],
                 now: Callable[[], float]) -> None:
        self.client, self.s, self.origins, self.now = client, s, origins, now
        self.where = s.endpoint_url or "AWS S3"
        self.root = f"{s.prefix}/" if s.prefix else ""

    def run(self, write: bool, known: set[str] | None) -> list[Check]:
        rows: list[Check] = []
        try:
            self.head_bucket(rows)
            first_key = self.list_prefix(rows)
            rows.append(self.get_one(first_key))
            if write:
                rows.append(self.put_scratch())
            rows.append(self.actor_folders(known))
        except _Stop as stop:
            rows.append(stop.check)
        return rows

    # -- the bucket: reachable, exists, region, clock -------------------------------------
    def head_bucket(self, rows: list[Check]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        b, t0 = self.s.bucket, self.now()
        try:
            meta = self.client.head_bucket(Bucket=b)["ResponseMetadata"]
        except ClientError as exc:
            meta = exc.response.get("ResponseMetadata", {})
        except BotoCoreError as exc:
            raise _Stop(self._unreachable(exc)) from None
        t1 = self.now()
        status = int(meta.get("HTTPStatusCode") or 0)
        headers = {k.lower(): v for k, v in (meta.get("HTTPHeaders") or {}).items()}
        rows.append(Check("endpoint", OK, f"{self.where} answered in "
                          f"{(t1 - t0) * 1000:.0f} ms"))
        if status == 404:
            raise _Stop(Check("bucket", FAIL, f"no bucket {b!r} on {self.where} (HTTP 404)",
                              f"Set ACTORBENCH_BUCKET to an existing bucket (now {b!r}, "
                              f"{self.origins['bucket']}).", CONFIG))
        if status == 403:
            rows.append(Check("bucket", WARN, f"HEAD on bucket {b!r} was refused (403): wrong "
                              "credentials, or a policy that allows only the prefix (see list)"))
        elif status in (200, 301, 400):  # 301/400: it exists, in another region
            rows.append(Check("bucket", OK, f"bucket {b!r} exists"))
        else:
            raise _Stop(Check("bucket", FAIL, f"HEAD on bucket {b!r} answered HTTP {status}",
                              f"Check that {self.where} is an S3 server and ACTORBENCH_BUCKET "
                              "is right.", ENVIRONMENT))
        rows.append(self._region(headers.get("x-amz-bucket-region"), status))
        rows.append(self._clock(headers.get("date"), (t0 + t1) / 2))

    def _region(self, actual: str | None, status: int) -> Check:
        configured, origin = self.s.region, self.origins["region"]
        if not actual and self.s.endpoint_url is None and status == 200:
            actual = self._bucket_location()
        if not actual:
            if self.s.endpoint_url:
                return Check("region", OK, f"{configured} ({origin}); {self.where} does not "
                             "report bucket regions")
            return Check("region", WARN, f"{configured} ({origin}); AWS did not say where "
                         f"bucket {self.s.bucket!r} is")
        if actual == configured:
            return Check("region", OK, f"bucket is in {actual}, as configured ({origin})")
        return Check("region", FAIL, f"bucket {self.s.bucket!r} is in {actual}, but AWS_REGION "
                     f"is {configured} ({origin})",
                     f"Set AWS_REGION={actual} (in the environment or .env): requests are "
                     "signed for the region, and s3_urls in actors.json name it.", CONFIG)

    def _bucket_location(self) -> str | None:
        try:
            loc = self.client.get_bucket_location(Bucket=self.s.bucket).get("LocationConstraint")
        except Exception:  # not allowed to ask: the region stays unknown
            return None
        return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(loc, loc)

    def _clock(self, date: str | None, local: float) -> Check:
        if not date:
            return Check("clock", WARN, f"{self.where} sent no Date header to compare with")
        try:
            server = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return Check("clock", WARN, f"{self.where} sent an unreadable Date header")
        skew = local - server
        detail = f"this machine is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} " \
                 f"{self.where}"
        if abs(skew) > MAX_SKEW_S:
            return Check("clock", WARN, detail + "; S3 refuses requests signed more than 5 min "
                         "off (RequestTimeTooSkewed)",
                         "Set this machine's clock (e.g. `sudo timedatectl set-ntp true`).")
        return Check("clock", OK, detail)

    def _unreachable(self, exc: Exception) -> Check:
        fix = (f"Check AWS_ENDPOINT_URL ({self.origins['endpoint_url']}) and that the server "
               "is running." if self.s.endpoint_url else
               "Check the network connection (and any proxy settings).")
        return Check("endpoint", FAIL, f"cannot reach {self.where}: {type(exc).__name__}: "
                     f"{exc}; the other S3 checks were skipped", fix, ENVIRONMENT)

    # -- permissions ------------------------------------------------------------------------
    def _call(self, what: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(Bucket=self.s.bucket, **kwargs)
        except ClientError as exc:
            raise _Stop(self._refused(what, exc)) from None
        except BotoCoreError as exc:
            raise _Stop(Check(what, FAIL, f"{type(exc).__name__}: {exc}",
                              "Run it again; if it keeps failing, check the network.",
                              ENVIRONMENT)) from None

    def _refused(self, what: str, exc: Any) -> Check:
        """A refusal as the setting to change: S3's error code says which one."""
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        key_o, secret_o = self.origins["access_key"], self.origins["secret_key"]
        kid = f"…{self.s.access_key[-4:]}" if self.s.access_key else ""
        action = {"list": "s3:ListBucket on the bucket", "get": "s3:GetObject under the prefix",
                  "put": "s3:PutObject and s3:DeleteObject under the prefix"}.get(what, what)
        if code == "InvalidAccessKeyId":
            return Check(what, FAIL, f"{self.where} does not know the access key {kid} "
                         f"({key_o})", f"Set {key_o.var} to a key of this account/server.")
        if code == "SignatureDoesNotMatch":
            return Check(what, FAIL, f"the secret key does not match access key {kid} "
                         f"({secret_o})", f"Set {secret_o.var} to the secret of {key_o.var}.")
        if code in ("ExpiredToken", "InvalidToken", "TokenRefreshRequired"):
            return Check(what, FAIL, f"the session token was refused ({code})",
                         "Renew AWS_SESSION_TOKEN (or `aws sso login`).")
        if code == "RequestTimeTooSkewed":
            return Check(what, FAIL, "S3 refused the request: this machine's clock is off",
                         "Set this machine's clock (e.g. `sudo timedatectl set-ntp true`).")
        if code in ("AuthorizationHeaderMalformed", "PermanentRedirect",
                    "IllegalLocationConstraintException"):
            return Check(what, FAIL, f"signed for the wrong region ({code})",
                         "Set AWS_REGION to the bucket's region (see the region row).", CONFIG)
        if code == "NoSuchBucket":
            return Check(what, FAIL, f"bucket {self.s.bucket!r} does not exist",
                         "Set ACTORBENCH_BUCKET to an existing bucket.", CONFIG)
        if code in ("AccessDenied", "403") or status == 403:
            return Check(what, FAIL, f"the credentials are not allowed to {what} under "
                         f"s3://{self.s.bucket}/{self.root} ({code or status})",
                         f"Grant {action} (arn:aws:s3:::{self.s.bucket}/{self.root}*).")
        return Check(what, FAIL, f"S3 answered {code or status}",
                     "Run it again; if it keeps failing, check the server's logs.")

    def list_prefix(self, rows: list[Check]) -> str | None:
        """List permission on the prefix; the first key found (to try a get on)."""
        r = self._call("list", self.client.list_objects_v2, Prefix=self.root, MaxKeys=1)
        contents = r.get("Contents") or []
        rows.append(Check("list", OK, f"can list s3://{self.s.bucket}/{self.root}"))
        return contents[0]["Key"] if contents else None

    def get_one(self, key: str | None) -> Check:
        if key is None:
            return Check("get", WARN, f"s3://{self.s.bucket}/{self.root} is empty: nothing "
                         "to read, so get permission is unknown",
                         "Check ACTORBENCH_PREFIX and ACTORBENCH_BUCKET if actors should be "
                         "there.", CONFIG)
        r = self._call("get", self.client.get_object, Key=key, Range="bytes=0-0")
        r["Body"].read()
        r["Body"].close()
        return Check("get", OK, f"can read s3://{self.s.bucket}/{printable(key)}")

    def put_scratch(self) -> Check:
        """Put and remove a scratch object under the prefix; it is removed even when a later
        step fails, and a leftover is named so it can be removed by hand."""
        key = f"{self.root}.actorbench-doctor-{uuid.uuid4().hex}"
        self._call("put", self.client.put_object, Key=key, Body=b"actorbench doctor\n",
                   ContentType="text/plain")
        try:
            self._call("put", self.client.delete_object, Key=key)
        except _Stop as stop:
            raise _Stop(Check("put", FAIL, f"wrote s3://{self.s.bucket}/{key} but could not "
                              f"remove it: {stop.check.detail}",
                              f"Delete s3://{self.s.bucket}/{key} by hand; grant "
                              "s3:DeleteObject under the prefix.")) from None
        return Check("put", OK, f"can write and delete under s3://{self.s.bucket}/{self.root}")

    # -- the library --------------------------------------------------------------------------
    def actor_folders(self, known: set[str] | None) -> Check:
        """Actor folders under the prefix (a delimiter listing) against actors.json."""
        folders: set[str] = set()
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.s.bucket, Prefix=self.root, Delimiter="/")
        try:
            for page in pages:
                for p in page.get("CommonPrefixes") or []:
                    folders.add(p["Prefix"][len(self.root):].rstrip("/"))
        except Exception as exc:  # list already worked: one row, no traceback
            return Check("actors", FAIL, f"listing actor folders failed: {exc}",
                         "Run it again.", ENVIRONMENT)
        unsafe = sorted(f for f in folders if not _safe(f))
        safe = folders - set(unsafe)
        detail = f"{len(safe)} actor folders in S3"
        if unsafe:
            detail += f", {len(unsafe)} with unsafe names (skipped: " + \
                      ", ".join(printable(u) for u in unsafe[:3]) + ("…" if len(unsafe) > 3
                                                                    else "") + ")"
        if known is None:
            return Check("actors", WARN if safe else OK, detail + "; no actors.json to compare",
                         "Run `actorbench discover` to build actors.json.", CONFIG)
        only_s3, missing = safe - known, known - safe
        detail += (f"; actors.json knows {len(known)}: {len(missing)} of them not in S3, "
                   f"{len(only_s3)} in S3 only")
        if only_s3 or unsafe:
            return Check("actors", WARN, detail,
                         "Run `actorbench discover` to add the actors found only in S3."
                         if only_s3 else "Rename the unsafe folders in S3.", CONFIG)
        return Check("actors", OK, detail)


def _safe(name: str) -> bool:
    try:
        check_actor_name(name)
    except UnsafePathError:
        return False
    return True
