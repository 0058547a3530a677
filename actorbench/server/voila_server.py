"""Voila, locked down: run as ``python -m actorbench.server.voila_server [voila args] NOTEBOOK``.

Voila 0.5.13 (pinned in pyproject: this module reaches into its handler table) trusts whoever
reaches its port: it turns jupyter_server's Host check off (``allow_remote_access=True``), has
no token unless told, and its kernel websocket, opened without the
``v1.kernel.websocket.jupyter.org`` subprotocol, loops in ``read_header_from_binary_message``
on the first frame (the server stops answering, memory grows). This wrapper subclasses
``voila.app.Voila`` and changes four things, each before Voila parses anything (and, for
speed, refills the preheat pool only once the server is quiet: ``REFILL_QUIET_S``):

- **auth**: the token comes from ``ACTORBENCH_APP_TOKEN`` (never the command line, which
  other local users can read in ``/proc``) or a hashed password from
  ``ACTORBENCH_APP_PASSWORD_HASH`` (``jupyter_server.auth.passwd``); both are removed from
  the environment the kernels inherit;
- **Host check on**: only ``localhost``, ``127.0.0.1``, ``::1`` and the names in
  ``ACTORBENCH_APP_HOSTS`` (comma-separated) are served; anything else is 403, so a DNS
  rebinding page never gets a kernel;
- **kernel websockets** (and Voila's preheat "query" socket) must offer the v1 subprotocol
  and, when a browser sends an Origin, come from an allowed host on the same port; else the
  upgrade is refused with 400/403 and no frame is ever read;
- **kernels are culled and capped**: kernels no page is connected to are shut down after
  ``--MappingKernelManager.cull_idle_timeout`` (set by ``command.voila_command``), and at most
  ``CappedKernelManager.max_kernels`` run at once (503 beyond that).
- **against other local users**: the app lives under the base path ``ACTORBENCH_APP_BASE``
  names (popped, like the token; ``/login`` and ``/logout`` too), the login cookie is scoped
  to it, ``SameSite=Strict`` and a session cookie (``security.COOKIE_OPTIONS``); kernels speak
  over IPC in a 0700 folder (``command.voila_command``); neither the log nor a kernel's
  environment carries the token; a short token or a malformed hash is refused;
- **bounded**: header and body timeouts and a body cap before any handler, the login
  rate-limited and hashed off the event loop (``voila_limits``).

Besides, the page is Voila's lab template plus a few lines of script (``templates/``) that
make the Library's cards clickable.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from jupyter_server.auth.logout import LogoutHandler
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.log import access_log
from traitlets import Integer
from voila.app import Voila
from voila.request_info_handler import RequestInfoSocketHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler
from voila.voila_identity_provider import VoilaLoginHandler

from .paths import TEMPLATES
from .security import (
    BASE_ENV,
    COOKIE_OPTIONS,
    HOSTS_ENV,
    LOOPBACK_NAMES,
    PASSWORD_ENV,
    TOKEN_ENV,
    V1_SUBPROTOCOL,
    allowed_hosts,
    host_allowed,
    origin_allowed,
    secret_problem,
)
from .voila_limits import HTTP_LIMITS, GuardedLoginHandler, GuardedLogoutHandler


def _refuse_foreign_socket(handler: web.RequestHandler, hosts: frozenset[str]) -> None:
    """Raise before the websocket upgrade if the socket is not one the dashboard opens."""
    host = handler.request.headers.get("Host", "")
    if not host_allowed(host, hosts):
        raise web.HTTPError(403, "unknown Host")
    origin = handler.request.headers.get("Origin")
    if origin is not None and not origin_allowed(origin, host, hosts):
        raise web.HTTPError(403, "foreign Origin")
    offered = [p.strip() for p in
               handler.request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
    if V1_SUBPROTOCOL not in offered:
        raise web.HTTPError(400, f"the kernel websocket needs the {V1_SUBPROTOCOL} subprotocol")


class GuardedKernelWebsocketHandler(VoilaKernelWebsocketHandler):
    """Voila's kernel websocket, refused before the upgrade unless it is the dashboard's."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish(f"{status_code}: {self._reason}\n")  # no HTML error page to render

    async def get(self, kernel_id: str) -> None:
        _refuse_foreign_socket(self, self.settings["actorbench_hosts"])
        await super().get(kernel_id)


class GuardedRequestInfoSocketHandler(RequestInfoSocketHandler):
    """Voila's preheat socket carries the request (query string included): same guard."""

    async def get(self, *args: Any, **kwargs: Any) -> None:
        _refuse_foreign_socket(self, self.settings["actorbench_hosts"])
        await super().get(*args, **kwargs)


_SWAP = {VoilaKernelWebsocketHandler: GuardedKernelWebsocketHandler,
         RequestInfoSocketHandler: GuardedRequestInfoSocketHandler,
         VoilaLoginHandler: GuardedLoginHandler, LogoutHandler: GuardedLogoutHandler}

#: query parameters never handed to a kernel through the preheat socket
SECRET_PARAMS = frozenset({"token"})


def without_secrets(query: str) -> str:
    """``token=...&actor=0002`` -> ``actor=0002``: what a preheated kernel may learn."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, v) for k, v in pairs if k.lower() not in SECRET_PARAMS])


def redact_url(url: str) -> str:
    """``/x?token=...&actor=1`` -> ``/x?actor=1`` (absolute URLs too)."""
    head, sep, query = url.partition("?")
    return head + (("?" + without_secrets(query)) if sep and without_secrets(query) else "")


def without_secret_env(env: dict[str, str]) -> dict[str, str]:
    """A kernel's environment without the token: Voila hands the visitor's full URL
    (``VOILA_REQUEST_URL``, and to the *next* visitor's preheated kernel) and query string."""
    out = dict(env)
    if "VOILA_REQUEST_URL" in out:
        out["VOILA_REQUEST_URL"] = redact_url(out["VOILA_REQUEST_URL"])
    if "QUERY_STRING" in out:
        out["QUERY_STRING"] = without_secrets(out["QUERY_STRING"])
    return out


def _strip_secrets_from_request_info() -> None:
    """Voila sends each visitor's request info (its query string, with the token of the URL
    the app prints) to whoever opens ``/voila/query/<kernel id>``, without asking who: the
    kernel id is visible in ``ps``. Strip the secret before it is sent or cached."""
    original = RequestInfoSocketHandler.send_updates.__func__
    if getattr(original, "_actorbench", False):
        return

    def send_updates(cls: type, msg: dict[str, Any]) -> None:
        payload = dict(msg.get("payload") or {})
        if isinstance(payload.get("QUERY_STRING"), str):
            payload["QUERY_STRING"] = without_secrets(payload["QUERY_STRING"])
        original(cls, {**msg, "payload": payload})

    send_updates._actorbench = True  # type: ignore[attr-defined]
    RequestInfoSocketHandler.send_updates = classmethod(send_updates)


#: what a visitor past the kernel cap reads (the error page shows the reason phrase)
FULL = "Too many dashboard pages are open: close one and reload"


def capped(base: type) -> type:
    """``base`` (a MappingKernelManager) that answers 503 past ``max_kernels`` kernels."""

    class Capped(base):
        max_kernels = Integer(8, config=True,
                              help="Kernels running at once; a page past that gets 503.")
        waiting_refills = 0  # preheat refills waiting for a free slot

        async def start_kernel(self, *args: Any, **kwargs: Any) -> str:
            # a refill of Voila's preheat pool waits for a free slot instead of failing:
            # Voila refills only after serving a preheated page, so one refused refill
            # would end preheating for the server's life (the visitor awaiting it waits too)
            if kwargs.get("env"):
                kwargs["env"] = without_secret_env(kwargs["env"])
            refill = (kwargs.get("env") or {}).get("VOILA_PREHEAT") == "True"
            if refill:
                self.waiting_refills += 1
                try:
                    while len(self.list_kernel_ids()) >= self.max_kernels:
                        await asyncio.sleep(1.0)
                finally:
                    self.waiting_refills -= 1
            if len(self.list_kernel_ids()) >= self.max_kernels:
                raise web.HTTPError(503, FULL, reason=FULL)
            return await super().start_kernel(*args, **kwargs)

    Capped.__name__ = Capped.__qualname__ = "CappedKernelManager"
    return Capped


#: a refill of Voila's preheat pool (a kernel that runs the notebook for the next visitor,
#: ~0.5 s of CPU) waits until the server has been quiet this long: no request served and no
#: message from any kernel. A page being loaded or used keeps the CPU; the refill runs while
#: its visitor reads. (Voila's own rule, a fixed 1 s after serving a page, lands it on the
#: end of the page's load and the first click: measured +0.1 s on a two-core machine.)
REFILL_QUIET_S = 0.3
#: ... and never longer than this after the page was served; a visitor who needs the kernel
#: meanwhile does not wait for the quiet
REFILL_WAIT_S = 10.0


class Activity:
    """When the server last answered a request (kernels keep their own times)."""

    last = 0.0

    @classmethod
    def log_request(cls, handler: web.RequestHandler) -> None:
        """Tornado's access log line, and the time (``log_function`` of the application)."""
        cls.last = time.monotonic()
        status = handler.get_status()
        log = access_log.info if status < 400 else (
            access_log.warning if status < 500 else access_log.error)
        req = handler.request  # as tornado writes it, without the token a URL may carry
        log("%d %s %s (%s) %.2fms", status, req.method, redact_url(req.uri or ""),
            req.remote_ip, 1000.0 * req.request_time())


def served_is_fresh(manager: type) -> type:
    """A preheated kernel is idle in the pool for as long as nobody visits; once it is served,
    the culler would see that idle time and could shut it down before the page's websocket
    connects. Serving it counts as activity. And the pool is refilled when the server is
    quiet (``REFILL_QUIET_S``), not while the page just served is still loading."""
    if not hasattr(manager, "get_rendered_notebook"):
        return manager  # no preheating: nothing waits in a pool

    class Served(manager):
        _visits = 0  # pages served from the pool: a refill waiting for quiet goes at once

        async def get_rendered_notebook(self, *args: Any, **kwargs: Any) -> Any:
            from jupyter_server._tz import utcnow

            name = kwargs.get("notebook_name", args[0] if args else None)
            pool = getattr(self, "_pools", {}).get(name) or []
            if getattr(self, "waiting_refills", 0) and pool and not pool[0].done():
                # the pool's next kernel waits for a slot that may not free for minutes:
                # say so now instead of holding the visitor until the browser gives up
                raise web.HTTPError(503, FULL, reason=FULL)
            self._visits += 1
            out = await super().get_rendered_notebook(*args, **kwargs)
            with contextlib.suppress(KeyError):
                self.get_kernel(out[2]).last_activity = utcnow()
            Activity.last = time.monotonic()  # the visit itself: its page is about to load
            return out

        async def _initialize(self, notebook_path: str, kernel_id: str | None = None,
                              **kwargs: Any) -> Any:
            # a refill, not the pool's first fill at start nor a restart of a given kernel
            if self._visits and kernel_id is None:
                await self.until_quiet()
            return await super()._initialize(notebook_path, kernel_id, **kwargs)

        async def until_quiet(self) -> None:
            from jupyter_server._tz import utcnow

            visits = self._visits
            loop = asyncio.get_running_loop()
            deadline = loop.time() + REFILL_WAIT_S
            while loop.time() < deadline and self._visits == visits:
                kernels = (utcnow() - self.last_kernel_activity).total_seconds()
                if min(kernels, time.monotonic() - Activity.last) >= REFILL_QUIET_S:
                    return
                await asyncio.sleep(0.05)

    Served.__name__ = Served.__qualname__ = manager.__name__
    return Served


#: actorbench's page template (Voila's lab template and the Library's card script)
PAGE_TEMPLATE = TEMPLATES


class GuardedVoila(Voila):
    """Voila with auth, the Host check, guarded websockets and capped kernels."""

    name = "voila"

    def setup_template_dirs(self) -> None:
        super().setup_template_dirs()
        # first: its index.html.j2 extends the lab template found further down the list
        self.template_paths.insert(0, str(PAGE_TEMPLATE))

    def initialize(self, argv: list[str] | None = None) -> None:
        base = os.environ.pop(BASE_ENV, "")
        if base:  # before Voila derives its server and websocket URLs from it
            self.base_url = base
        super().initialize(argv)
        self.config.IdentityProvider.cookie_options = dict(COOKIE_OPTIONS)
        _strip_secrets_from_request_info()
        token = os.environ.pop(TOKEN_ENV, "")
        password = os.environ.pop(PASSWORD_ENV, "")
        if not token and not password:
            sys.exit(f"actorbench: refusing to serve without {TOKEN_ENV} or {PASSWORD_ENV}.")
        problem = secret_problem(token, password)
        if problem:
            sys.exit(f"actorbench: {problem}")
        self.token = token
        if password:
            self.config.PasswordIdentityProvider.hashed_password = password
        self.actorbench_hosts = allowed_hosts(os.environ.get(HOSTS_ENV, ""))

    def init_settings(self) -> dict[str, Any]:
        import voila.voila_kernel_manager as vkm

        factory = vkm.voila_kernel_manager_factory
        if not getattr(factory, "_actorbench_capped", False):
            def capped_factory(base_class: type, *args: Any, **kwargs: Any) -> type:
                return served_is_fresh(factory(capped(base_class), *args, **kwargs))

            capped_factory._actorbench_capped = True  # type: ignore[attr-defined]
            vkm.voila_kernel_manager_factory = capped_factory
            import voila.app as vapp

            vapp.voila_kernel_manager_factory = capped_factory
        settings: dict[str, Any] = super().init_settings()
        settings["allow_remote_access"] = False
        settings["local_hostnames"] = sorted(self.actorbench_hosts - LOOPBACK_NAMES
                                             | {"localhost"})
        settings["actorbench_hosts"] = self.actorbench_hosts
        settings["log_function"] = Activity.log_request
        return settings

    def listen(self) -> None:
        listen = self.app.listen  # timeouts and the body cap, before any handler (or login)
        self.app.listen = lambda port, address="", **kw: listen(
            port, address, **{**HTTP_LIMITS, **kw})
        super().listen()

    def init_handlers(self) -> list[Any]:
        handlers = super().init_handlers()
        out = []
        root = self.server_url or self.base_url
        for spec in handlers:
            if isinstance(spec, tuple) and len(spec) >= 2 and spec[1] in _SWAP:
                spec = (spec[0], _SWAP[spec[1]], *spec[2:])
            if isinstance(spec, tuple) and isinstance(spec[0], str) and not spec[0].startswith(
                    root):  # /login and /logout come unprefixed: under the base path too
                spec = (url_path_join(root, spec[0]), *spec[1:])
            out.append(spec)
        return out


def main(argv: list[str] | None = None) -> None:
    GuardedVoila.launch_instance(argv)


if __name__ == "__main__":
    main()
