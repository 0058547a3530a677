"""Where S3 requests go and whom they trust: addressing, TLS, proxies, and which client.

One answer for every client (lean urllib3 store, bulk aiohttp getter, boto3), taken from
:class:`~actorbench.settings.Settings` (environment or ``.env``), so they all agree.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import ConfigError
from ..settings import Settings

#: a bucket name usable as a DNS label under ``*.s3.<region>.amazonaws.com`` (no dots: the
#: wildcard certificate covers one label only)
_VIRTUAL_HOSTABLE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Address:
    """Where one bucket's requests go: ``scheme://host`` + ``base_path`` + ``/key``."""

    scheme: str
    host: str  # as signed and sent in Host: the default port left out
    base_path: str  # "" (virtual-hosted) or "/bucket" (path-style)

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://{self.host}"


def address(bucket: str, region: str, endpoint_url: str | None) -> Address:
    """Virtual-hosted on AWS (``bucket.s3.region.amazonaws.com``); path-style for a custom
    endpoint and for bucket names that are not one DNS label (dots, capitals, underscores).

    Usage::

        address("my-bucket", "eu-west-1", None).endpoint  # https://my-bucket.s3.eu-west-1...
    """
    if endpoint_url:
        parts = urlsplit(endpoint_url)
        scheme = parts.scheme or "http"
        return Address(scheme, _netloc(scheme, parts.hostname or "", parts.port),
                       f"{parts.path.rstrip('/')}/{bucket}")
    if _VIRTUAL_HOSTABLE.match(bucket):
        return Address("https", f"{bucket}.s3.{region}.amazonaws.com", "")
    return Address("https", f"s3.{region}.amazonaws.com", f"/{bucket}")


def _netloc(scheme: str, host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{shown}:{port}"


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """Verification against ``AWS_CA_BUNDLE`` when set (only that file, as botocore does),
    else the system's CA store."""
    if not ca_bundle:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"AWS_CA_BUNDLE is {ca_bundle!r}, which is not a readable file of "
                          f"PEM certificates ({type(exc).__name__}): point it at the CA "
                          "bundle, or unset it to use the system's.") from None


@dataclass(frozen=True)
class Proxies:
    """``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY`` as curl, requests and botocore read them.

    Usage::

        Proxies.from_settings(settings).for_url("https://bucket.s3.us-west-1.amazonaws.com")
    """

    https: str | None = None
    http: str | None = None
    no_proxy: str | None = None

    @classmethod
    def from_settings(cls, s: Settings) -> Proxies:
        return cls(_with_scheme(s.https_proxy), _with_scheme(s.http_proxy), s.no_proxy)

    def for_url(self, url: str) -> str | None:
        """The proxy for ``url``, or None (none set, or the host is in ``NO_PROXY``)."""
        parts = urlsplit(url)
        proxy = self.https if parts.scheme == "https" else self.http
        if not proxy:
            return None
        if self.no_proxy and parts.hostname and _bypassed(parts.hostname, parts.port,
                                                          self.no_proxy):
            return None
        return proxy

    def __repr__(self) -> str:  # a proxy URL may hold a password
        return f"Proxies(https={_redact(self.https)}, http={_redact(self.http)})"


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """``NO_PROXY`` as curl and Go read it: ``*``, names (``example.com`` also covers its
    subdomains, a leading dot too), ``name:port``, IP addresses and CIDR ranges."""
    host = host.lower().strip("[]")
    for raw in no_proxy.replace(" ", ",").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if entry.count(":") == 1:  # name:port (an IPv6 address has more colons)
            entry, _, want = entry.partition(":")
            if want.isdigit() and port is not None and int(want) != port:
                continue
        entry = entry.strip("[]").lstrip("*").lstrip(".")  # "*.corp", ".corp": subdomains
        try:
            if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                return True
            continue
        except ValueError:
            pass
        if host == entry or host.endswith("." + entry):
            return True
    return False


def _with_scheme(url: str | None) -> str | None:
    """``proxy:3128`` means ``http://proxy:3128`` (as botocore and curl read it)."""
    if not url:
        return None
    return url if "://" in url else f"http://{url}"


def _redact(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return url.replace(f"{parts.password}@", "***@") if parts.password else url


def lean_gap(s: Settings) -> str | None:
    """Why the lean store (urllib3 + aiohttp) cannot serve these settings as boto3 would;
    None when it can. ``auto`` picks boto3 whenever there is a reason."""
    if not (s.access_key and s.secret_key):
        return "no static keys (boto3 finds profiles, SSO and instance roles)"
    if s.profile:
        return "AWS_PROFILE is set"
    for name, url in (("HTTPS_PROXY", s.https_proxy), ("HTTP_PROXY", s.http_proxy)):
        if url and urlsplit(_with_scheme(url) or "").scheme != "http":
            return f"{name} is not an http:// proxy"
    return None


def store_kind(s: Settings) -> str:
    """``lean`` or ``boto3``: what ``Workbench.store`` builds for these settings."""
    if s.s3_client != "auto":
        return s.s3_client
    return "lean" if lean_gap(s) is None else "boto3"
