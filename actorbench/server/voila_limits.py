"""Bounds on what reaches the dashboard's server before (and at) the login.

Without them a half-sent request never timed out, a 90 MB body was buffered before the login
check, and each wrong password cost ~133 ms of hashing on the one thread that serves every
page, with no limit on attempts. ``voila_server`` applies ``HTTP_LIMITS`` to Tornado's
HTTPServer and swaps in these login and logout handlers.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.logout import LogoutHandler
from tornado import web
from voila.voila_identity_provider import VoilaLoginHandler

#: Tornado's HTTPServer: a request's header must arrive within ``idle_connection_timeout``
#: seconds and its body within ``body_timeout``; a body over ``max_body_size`` is refused from
#: its Content-Length, unread (the dashboard posts only a login form; widgets use websockets)
HTTP_LIMITS: dict[str, Any] = {"idle_connection_timeout": 20.0, "body_timeout": 20.0,
                               "max_body_size": 64 * 1024, "max_header_size": 16 * 1024}
#: wrong logins a client address may make per ``LOGIN_WINDOW_S`` before it gets 429
LOGIN_FAILURES = 5
LOGIN_WINDOW_S = 60.0
_CLIENTS = 4096  # addresses remembered (the oldest forgotten first)


class LoginLimiter:
    """Failed logins per client address in a sliding window."""

    def __init__(self, failures: int = LOGIN_FAILURES, window: float = LOGIN_WINDOW_S) -> None:
        self.failures, self.window = failures, window
        self.seen: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str) -> deque[float]:
        times = self.seen.setdefault(client, deque())
        self.seen.move_to_end(client)
        while times and time.monotonic() - times[0] > self.window:
            times.popleft()
        while len(self.seen) > _CLIENTS:
            self.seen.popitem(last=False)
        return times

    def retry_after(self, client: str) -> float:
        """Seconds until ``client`` may try again (0: now)."""
        times = self._recent(client)
        if len(times) < self.failures:
            return 0.0
        return max(0.0, self.window - (time.monotonic() - times[0]))

    def failed(self, client: str) -> None:
        self._recent(client).append(time.monotonic())


LIMITER = LoginLimiter()


class GuardedLoginHandler(VoilaLoginHandler):
    """The login form, rate-limited per address; the password is hashed off the event loop."""

    @allow_unauthenticated
    async def post(self) -> None:
        client = self.request.remote_ip or "?"
        wait = LIMITER.retry_after(client)
        if wait:
            self.set_header("Retry-After", str(int(wait) + 1))
            raise web.HTTPError(429, "too many failed logins; wait a minute")
        provider = self.identity_provider
        # process_login_form reads the parsed form and hashes: no write to the response
        user = await asyncio.get_running_loop().run_in_executor(
            None, provider.process_login_form, self)
        if user is None:
            LIMITER.failed(client)
            self.set_status(401)
            self._render(message={"error": "Invalid credentials"})
            return
        self.current_user = user
        provider.set_login_cookie(self, user)
        self._redirect_safe(self.get_argument("next", default=self.base_url))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish(f"{status_code}: {self._reason}\n")


class GuardedLogoutHandler(LogoutHandler):
    """Clear the login cookie and go to the login page (Voila has no logout template: 500)."""

    @allow_unauthenticated
    def get(self) -> None:
        self.identity_provider.clear_login_cookie(self)
        self.redirect(self.base_url.rstrip("/") + "/login")
