"""Who may drive the dashboard: the Host and Origin rules and the app's secret.

Pure functions, shared by the Voila wrapper (``server/voila_server.py``) and the CLI, so the rule
the server enforces is the one the tests and ``actorbench app`` reason about.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from urllib.parse import urlsplit

#: where the dashboard's secret and extra host names come from (never the command line)
TOKEN_ENV = "ACTORBENCH_APP_TOKEN"
PASSWORD_ENV = "ACTORBENCH_APP_PASSWORD_HASH"
HOSTS_ENV = "ACTORBENCH_APP_HOSTS"
#: the app's unguessable base path (``/ab-<random>/``): every URL and the login cookie's Path
BASE_ENV = "ACTORBENCH_APP_BASE"
#: the login cookie: sent to this app's path only, never on a cross-site request, and gone
#: when the browser ends its session (the server's cookie secret ends with the run anyway)
COOKIE_OPTIONS = {"samesite": "Strict", "expires_days": None}
#: the names that always reach a loopback-bound dashboard
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
#: the kernel websocket protocol the dashboard speaks; Voila 0.5.13 loops on anything else
V1_SUBPROTOCOL = "v1.kernel.websocket.jupyter.org"
#: addresses that bind to loopback only; anything else needs a secret
_LOOPBACK_BINDS = frozenset({"127.0.0.1", "localhost", "::1"})

#: a token shorter than this is refused, on loopback too (other local users can guess)
MIN_TOKEN_CHARS = 24
#: what ``jupyter_server.auth.passwd`` makes: argon2 (its default) or a salted sha hash
_HASH_RE = re.compile(r"^(?:argon2:\$argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+"
                      r"\$[A-Za-z0-9+/]{16,}|sha(?:1|256|512):[0-9a-f]{8,}:[0-9a-f]{40,128})$")

_HOST_RE = re.compile(
    r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9.-]+))(?::(?P<port>\d{1,5}))?$")


def new_token() -> str:
    """A fresh per-run token (256 bits, URL-safe), as Jupyter makes one."""
    return secrets.token_urlsafe(32)


def new_base() -> str:
    """A fresh per-run base path: cookies ignore ports, so another local user's server on
    127.0.0.1 receives the login cookie only if it knows this path (it is never on a command
    line: it travels in the environment, as the token does)."""
    return f"/ab-{secrets.token_urlsafe(18)}/"


def secret_problem(token: str, password_hash: str) -> str | None:
    """Why the dashboard's secret is unsafe (None: it will do)."""
    if password_hash and not _HASH_RE.match(password_hash):
        return (f"{PASSWORD_ENV} must be a hash from `python -c 'from jupyter_server.auth "
                "import passwd; print(passwd())'`, never the password itself.")
    if token and len(token) < MIN_TOKEN_CHARS:
        return f"{TOKEN_ENV} is too short: use at least {MIN_TOKEN_CHARS} random characters."
    return None


def allowed_hosts(extra: str | list[str] = "") -> frozenset[str]:
    """Loopback names plus the names a user adds (``ACTORBENCH_APP_HOSTS=a.example,b``)."""
    names = extra.split(",") if isinstance(extra, str) else list(extra)
    return LOOPBACK_NAMES | {n.strip().lower() for n in names if n.strip()}


def split_host(host_header: str) -> tuple[str, int | None] | None:
    """``("name", port)`` from a Host header value, or None if it is malformed."""
    m = _HOST_RE.match(host_header.strip())
    if not m:
        return None
    name = (m.group("v6") or m.group("name") or "").lower()
    port = int(m.group("port")) if m.group("port") else None
    return name, port


def host_allowed(host_header: str, hosts: frozenset[str]) -> bool:
    """True if the request's Host names this dashboard (a DNS-rebinding page's does not)."""
    parts = split_host(host_header)
    if parts is None:
        return False
    name = parts[0]
    if name in hosts:
        return True
    try:  # any loopback address (127.0.0.2, ...) is as local as 127.0.0.1
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def origin_allowed(origin: str, host_header: str, hosts: frozenset[str]) -> bool:
    """A browser's Origin must name an allowed host and the very host and port served."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    served = split_host(host_header)
    if served is None or not host_allowed(parts.netloc, hosts):
        return False
    default = 443 if parts.scheme == "https" else 80
    return (parts.hostname.lower(), port or default) == (served[0], served[1] or default)


def is_loopback_bind(ip: str) -> bool:
    """True if binding ``ip`` reaches this machine only."""
    if ip in _LOOPBACK_BINDS:
        return True
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False
