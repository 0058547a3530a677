"""The dashboard refuses whoever is not its user: a foreign Host (DNS rebinding), a foreign
Origin, a websocket without the v1 subprotocol, a visitor without the token; and it culls and
caps kernels. Each test fails if its guard in ``actorbench/server/voila_server.py`` goes."""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nbformat
import pytest
import requests

from actorbench.demo import free_port
from actorbench.demo.server import wait_for_port
from actorbench.server.command import voila_command
from actorbench.server.security import V1_SUBPROTOCOL
from tests.browser.conftest import ARGS, CHROMIUM, shot
from tests.figures import FIGURES, attack
from tests.test_app_command import descendants

pytestmark = pytest.mark.browser
EVIL = "evil.example.com"


def kernels(pid: int) -> set[int]:
    """The kernel processes under Voila ``pid``."""
    out = set()
    for child in descendants(pid):
        try:
            cmd = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"ipykernel_launcher" in cmd:
            out.add(child)
    return out


def settled_kernels(pid: int, wait: float = 3.0) -> set[int]:
    time.sleep(wait)  # a kernel a request asked for shows up within a second or two
    return kernels(pid)


def kernels_at_rest(pid: int, still: float = 1.5, timeout: float = 30.0) -> set[int]:
    """The kernels once none has come or gone for ``still`` seconds: the preheat pool is
    refilled when the server has been quiet (a page an earlier test opened), not at once."""
    deadline = time.monotonic() + timeout
    seen, since = kernels(pid), time.monotonic()
    while time.monotonic() - since < still and time.monotonic() < deadline:
        time.sleep(0.1)
        now = kernels(pid)
        if now != seen:
            seen, since = now, time.monotonic()
    return seen


def kernel_id_and_cookie(base: str, token: str) -> tuple[str, str]:
    s = requests.Session()
    r = s.get(base, params={"token": token}, timeout=120)
    r.raise_for_status()
    kid = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", r.text)
    assert kid, "the page names no kernel"
    return kid.group(0), "; ".join(f"{k}={v}" for k, v in s.cookies.items())


def ws_handshake(base: str, kernel: str, cookie: str, *, origin: str | None,
                 protocols: list[str], host: str | None = None) -> int:
    """Send a raw websocket upgrade; return the HTTP status of the answer."""
    u = urlsplit(base)
    lines = [f"GET /api/kernels/{kernel}/channels?session_id=x HTTP/1.1",
             f"Host: {host or u.netloc}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
             "Sec-WebSocket-Version: 13", f"Cookie: {cookie}"]
    if origin:
        lines.append(f"Origin: {origin}")
    if protocols:
        lines.append(f"Sec-WebSocket-Protocol: {', '.join(protocols)}")
    with socket.create_connection((u.hostname, u.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = sock.recv(4096).decode("latin-1")
        status = int(head.split()[1])
        if status == 101:
            # what a plain `new WebSocket(url)` would then send: a frame Voila 0.5 loops on
            sock.sendall(b"\x82\x85abcd" + bytes(b ^ k for b, k in zip(b"\x00" * 5, b"abcda",
                                                                       strict=True)))
    return status


def test_foreign_host_gets_403_and_no_kernel(running_app):  # type: ignore[no-untyped-def]
    port = urlsplit(running_app.base).port
    before = kernels_at_rest(running_app.pid)
    for host in (f"{EVIL}:{port}", EVIL, f"127.0.0.1.{EVIL}:{port}"):
        r = requests.get(running_app.base, params={"token": running_app.token},
                         headers={"Host": host}, timeout=30, allow_redirects=False)
        assert r.status_code == 403, (host, r.status_code)
    assert settled_kernels(running_app.pid) <= before
    FIGURES["attacks tried on the dashboard and refused"] += 3
    attack("GET / with a foreign Host (DNS rebinding), token or not", "403, no kernel started")


def test_twenty_gets_without_the_token_start_no_kernel(running_app):  # type: ignore[no-untyped-def]
    before = kernels_at_rest(running_app.pid)
    for i in range(20):
        r = requests.get(running_app.base, params={"token": "wrong"} if i % 2 else None,
                         timeout=30, allow_redirects=False)
        assert r.status_code in (302, 403), r.status_code
        assert "kernel" not in r.text.lower()
    assert settled_kernels(running_app.pid) <= before
    FIGURES["attacks tried on the dashboard and refused"] += 20
    attack("20 GETs of the dashboard without the token (or a wrong one)",
           "302 to the login page or 403; no kernel started")


def test_websockets_from_a_foreign_origin_or_without_v1_are_refused(running_app):  # type: ignore[no-untyped-def]
    base, port = running_app.base, urlsplit(running_app.base).port
    kid, cookie = kernel_id_and_cookie(base, running_app.token)
    own = f"http://127.0.0.1:{port}"
    refused = [
        dict(origin=f"http://{EVIL}:{port}", protocols=[V1_SUBPROTOCOL]),
        dict(origin=f"http://{EVIL}:{port}", protocols=[V1_SUBPROTOCOL], host=f"{EVIL}:{port}"),
        dict(origin="http://127.0.0.1:1", protocols=[V1_SUBPROTOCOL]),
        dict(origin="null", protocols=[V1_SUBPROTOCOL]),
        dict(origin=own, protocols=[]),  # what `new WebSocket(url)` offers
        dict(origin=own, protocols=["v2.kernel.websocket.jupyter.org"]),
    ]
    for kw in refused:
        assert ws_handshake(base, kid, cookie, **kw) in (400, 403), kw  # type: ignore[arg-type]
    # the server keeps answering, and the dashboard's own socket still opens
    t0 = time.monotonic()
    assert requests.get(base, params={"token": running_app.token}, timeout=60).ok
    assert time.monotonic() - t0 < 30
    assert ws_handshake(base, kid, cookie, origin=own, protocols=[V1_SUBPROTOCOL]) == 101
    assert requests.get(base, params={"token": running_app.token}, timeout=60).ok
    FIGURES["attacks tried on the dashboard and refused"] += len(refused)
    attack("kernel websocket from a foreign Origin (evil host, other port, null)",
           "403 before the upgrade; the server keeps answering")
    attack("kernel websocket without the v1 subprotocol (a plain `new WebSocket(url)`)",
           "400 before the upgrade, no frame parsed; the server keeps answering")


def test_a_dns_rebinding_page_in_chromium_reaches_nothing(browser, running_app):  # type: ignore[no-untyped-def]
    """Real chromium resolves evil.example.com to 127.0.0.1, as a rebinding attack makes it."""
    from playwright.sync_api import sync_playwright  # noqa: F401 - the fixture's browser

    port = urlsplit(running_app.base).port
    b = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*ARGS, f"--host-resolver-rules=MAP {EVIL} 127.0.0.1"])
    try:
        page = b.new_page()
        resp = page.goto(f"http://{EVIL}:{port}/?token={running_app.token}")
        assert resp is not None and resp.status == 403
        assert page.locator(".ab-app").count() == 0
        shot(page, "lockdown-dns-rebinding")
    finally:
        b.close()
    FIGURES["attacks tried on the dashboard and refused"] += 1
    attack("a DNS-rebinding page in chromium (evil.example.com -> 127.0.0.1)",
           "403, no dashboard rendered")


# -- a Voila of our own, with a tiny notebook, for culling and the cap ---------------------------
@pytest.fixture
def tiny_voila(tmp_path):  # type: ignore[no-untyped-def]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print('hi')")]
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    port, token = free_port(), "t" * 32
    env = {**os.environ, "ACTORBENCH_APP_TOKEN": token}
    log = open(tmp_path / "voila.log", "wb")
    proc = subprocess.Popen(voila_command(port, path, cull_idle_s=4, cull_interval_s=1,
                                          max_kernels=3, preheat=False),
                            env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout=60, proc=proc)  # type: ignore[arg-type]
        yield proc, f"http://127.0.0.1:{port}/", token
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def test_kernels_no_page_uses_are_culled_and_capped(tiny_voila):  # type: ignore[no-untyped-def]
    proc, base, token = tiny_voila
    codes = [requests.get(base, params={"token": token}, timeout=120).status_code
             for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and set(codes[3:]) == {503}, codes
    assert len(kernels(proc.pid)) <= 3
    deadline = time.monotonic() + 30
    while kernels(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not kernels(proc.pid), "kernels no page is connected to were never culled"
    assert requests.get(base, params={"token": token}, timeout=120).status_code == 200
    FIGURES["attacks tried on the dashboard and refused"] += 2
    attack("many dashboard pages opened at once (kernel exhaustion)",
           "capped at max_kernels (503 past it); kernels no page uses culled")


def test_app_refuses_a_public_address_without_a_secret(tmp_path):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTORBENCH_", "AWS_"))}
    env["ACTORBENCH_DATA_DIR"] = str(tmp_path)
    for extra in ({}, {"ACTORBENCH_APP_TOKEN": "short"},
                  {"ACTORBENCH_APP_PASSWORD_HASH": "plain-password"}):
        r = subprocess.run([sys.executable, "-m", "actorbench.cli", "app", "--no-demo",
                            "--ip", "0.0.0.0", "--port", str(free_port())],
                           env={**env, **extra}, capture_output=True, text=True, timeout=60)
        assert r.returncode in (2, 3), (extra, r.stdout, r.stderr)
        assert "ACTORBENCH_APP_" in r.stderr and "Traceback" not in r.stderr
    FIGURES["attacks tried on the dashboard and refused"] += 3
    attack("`actorbench app --ip 0.0.0.0` without a secret, a short token or a plain password",
           "refuses to start, one line naming the setting")


def test_the_printed_url_carries_a_fresh_token():  # type: ignore[no-untyped-def]
    from actorbench.cli.app import app_secret, app_url

    t1, _ = app_secret("127.0.0.1", {})
    t2, _ = app_secret("127.0.0.1", {})
    assert t1 != t2 and len(t1) >= 40
    assert app_url("127.0.0.1", 8866, t1) == f"http://127.0.0.1:8866/?token={t1}"
    assert app_secret("0.0.0.0", {"ACTORBENCH_APP_TOKEN": "x" * 32})[0] == "x" * 32


@pytest.mark.attack("a local user reads the preheat query socket (/voila/query/<kernel id>, "
                    "the id is visible in ps) after a visit through the printed URL",
                    "the request info it gets carries no token")
def test_the_preheat_query_socket_never_carries_the_token(tmp_path):  # type: ignore[no-untyped-def]
    """A notebook whose kernel never asks for its request info: Voila caches the info for the
    first socket to open ``/voila/query/<id>`` (the attacker's, here)."""
    import json

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print('hi')")]
    nbformat.write(nb, tmp_path / "q.ipynb")
    port, token = free_port(), "q" * 32
    proc = subprocess.Popen(voila_command(port, tmp_path / "q.ipynb"), cwd=tmp_path,
                            env={**os.environ, "ACTORBENCH_APP_TOKEN": token},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=60, proc=proc)  # type: ignore[arg-type]
        time.sleep(3)  # the preheated kernel is ready
        _read_query_socket(f"http://127.0.0.1:{port}/", token, json)
    finally:
        proc.terminate()
        proc.wait(10)


def _read_query_socket(base: str, token: str, json: Any) -> None:
    s = requests.Session()
    r = s.get(base, params={"token": token, "actor": "0001"}, timeout=120)
    r.raise_for_status()
    kid = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", r.text)
    assert kid
    u = urlsplit(base)
    lines = [f"GET /voila/query/{kid.group(0)} HTTP/1.1", f"Host: {u.netloc}",  # no cookie
             "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13",
             f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
             f"Sec-WebSocket-Protocol: {V1_SUBPROTOCOL}"]
    with socket.create_connection((u.hostname, u.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(4096)
        head, rest = data.split(b"\r\n\r\n", 1)
        assert head.split()[1] == b"101", head
        while len(rest) < 2 or len(rest) < _frame_end(rest):
            rest += sock.recv(65536)
    info = json.loads(_frame_payload(rest))
    assert "actor=0001" in info["QUERY_STRING"]  # the deep link still reaches the kernel
    assert token not in json.dumps(info) and "token" not in info["QUERY_STRING"]


def _frame_end(buf: bytes) -> int:
    n = buf[1] & 0x7F
    return 2 + n if n < 126 else (4 + int.from_bytes(buf[2:4], "big") if n == 126 and
                                  len(buf) >= 4 else 10 + int.from_bytes(buf[2:10], "big")
                                  if len(buf) >= 10 else 1 << 30)


def _frame_payload(buf: bytes) -> bytes:
    n = buf[1] & 0x7F
    start = 2 if n < 126 else 4 if n == 126 else 10
    return buf[start:_frame_end(buf)]


def test_a_preheated_kernel_is_not_culled_between_serving_and_connecting(tmp_path):  # type: ignore[no-untyped-def]
    """A kernel idle in the preheat pool for longer than the cull timeout is served; the page
    connects a moment later and finds it alive (the culler would have taken it)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print('hi')")]
    nbformat.write(nb, tmp_path / "p.ipynb")
    port, token = free_port(), "p" * 32
    proc = subprocess.Popen(voila_command(port, tmp_path / "p.ipynb", cull_idle_s=3,
                                          cull_interval_s=1), cwd=tmp_path,
                            env={**os.environ, "ACTORBENCH_APP_TOKEN": token},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=60, proc=proc)  # type: ignore[arg-type]
        base = f"http://127.0.0.1:{port}/"
        time.sleep(6)  # the pool's kernel has been idle for twice the cull timeout
        kid, cookie = kernel_id_and_cookie(base, token)
        time.sleep(2.5)  # the culler runs twice before the page's socket opens
        assert ws_handshake(base, kid, cookie, origin=f"http://127.0.0.1:{port}",
                            protocols=[V1_SUBPROTOCOL]) == 101
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_pool_refills_once_the_server_is_quiet(running_app):  # type: ignore[no-untyped-def]
    """A visit takes the preheated kernel; while its page is still loading (requests keep
    coming) no kernel is started for the next visitor, and once the server is quiet one is."""
    before = kernels_at_rest(running_app.pid)
    s = requests.Session()
    assert s.get(running_app.url, timeout=120).status_code == 200  # the visit
    t0 = time.monotonic()
    while time.monotonic() - t0 < 2.5:  # its page's scripts, one after another
        s.get(running_app.base + "voila/static/not-there.js", timeout=30)
        assert kernels(running_app.pid) <= before, "a refill ran over the page's load"
        time.sleep(0.1)
    deadline = time.monotonic() + 20
    while not kernels(running_app.pid) - before:
        assert time.monotonic() < deadline, "the pool was not refilled once quiet"
        time.sleep(0.1)
