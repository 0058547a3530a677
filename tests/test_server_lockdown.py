"""The dashboard's server against other users of the machine: the login lives under an
unguessable base path in a SameSite=Strict session cookie, and kernels speak over IPC sockets
in a 0700 folder instead of loopback TCP. A real Voila on a small notebook."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import requests

from actorbench.demo import free_port
from actorbench.demo.server import wait_for_port
from actorbench.server.command import voila_command
from actorbench.server.security import BASE_ENV, PASSWORD_ENV, TOKEN_ENV, new_base
from tests.test_app_command import descendants


@dataclass
class Served:
    root: str  # http://127.0.0.1:port
    base: str
    token: str
    connections: Path
    proc: subprocess.Popen[bytes]
    log: Path | None = None


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print('hi')")]
    nbformat.write(nb, tmp_path / "q.ipynb")
    # short: a unix socket's path has at most 107 bytes (a kernel's name is 50 of them)
    connections = Path(tempfile.mkdtemp(prefix="abk-"))
    port, token, base = free_port(), "t" * 43, new_base()
    log = tmp_path / "voila.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(voila_command(port, tmp_path / "q.ipynb",
                                              connections=connections), cwd=tmp_path,
                                env={**os.environ, TOKEN_ENV: token, BASE_ENV: base},
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout=60, proc=proc)  # type: ignore[arg-type]
        yield Served(f"http://127.0.0.1:{port}", base, token, connections, proc, log)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(connections, ignore_errors=True)


def kernel_connection_files(pid: int) -> list[Path]:
    out = []
    for child in descendants(pid):
        try:
            cmd = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"ipykernel_launcher" in b" ".join(cmd) and b"-f" in cmd:
            out.append(Path(cmd[cmd.index(b"-f") + 1].decode()))
    return out


@pytest.mark.attack("another local user's server on 127.0.0.1:<other port> visited by the "
                    "browser after login (cookies ignore ports)",
                    "the cookie is scoped to an unguessable per-run base path, SameSite=Strict, "
                    "a session cookie; the app answers 404 outside that path")
def test_the_login_cookie_is_scoped_to_an_unguessable_path(served: Served):
    s = requests.Session()
    r = s.get(f"{served.root}{served.base}", params={"token": served.token}, timeout=120)
    assert r.status_code == 200
    # the page loads nothing from a CDN (Voila's lab template put Font Awesome's CSS there)
    assert "jsdelivr" not in r.text and "voila-style" in r.text and "ab-js" in r.text
    cookies = [c for c in r.history + [r] for c in c.raw.headers.getlist("Set-Cookie")]
    login = [c for c in cookies if c.startswith("username-")]
    assert login, cookies
    attrs = {a.strip().split("=")[0].lower(): a.strip() for a in login[0].split(";")[1:]}
    assert attrs["path"] == f"Path={served.base}" and attrs["samesite"] == "SameSite=Strict"
    assert "expires" not in attrs and "max-age" not in attrs  # ends with the browser session
    # without the base path nothing of the app answers: not the page, not the query socket
    for path in ("/", "/?token=" + served.token, "/voila/query/x", "/api/kernels",
                 "/login"):
        assert requests.get(served.root + path, timeout=30).status_code == 404, path
    assert len(served.base) >= 25
    assert requests.get(f"{served.root}{served.base}login", timeout=30).status_code == 200


@pytest.mark.attack("another local user subscribing to a dashboard kernel's IOPub stream",
                    "kernels speak over IPC sockets in a 0700 folder, not loopback TCP; the "
                    "folder is removed when the server stops")
def test_kernels_speak_over_ipc_in_a_private_folder(served: Served):
    r = requests.get(f"{served.root}{served.base}", params={"token": served.token}, timeout=120)
    assert r.status_code == 200
    deadline = time.monotonic() + 30
    while not (files := kernel_connection_files(served.proc.pid)):
        assert time.monotonic() < deadline, "no kernel started"
        time.sleep(0.2)
    for f in files:
        info = json.loads(f.read_text())
        assert info["transport"] == "ipc", info
        folder = f.parent
        assert folder.parent == served.connections
        assert stat.S_IMODE(folder.stat().st_mode) & 0o777 == 0o700  # (jupyter adds +t)
        sockets = [p for p in folder.iterdir() if stat.S_ISSOCK(p.stat().st_mode)]
        assert len(sockets) >= 5 and all(p.parent == folder for p in sockets)
    served.proc.terminate()
    served.proc.wait(15)
    assert list(served.connections.iterdir()) == []


@pytest.fixture
def with_password(tmp_path: Path) -> Iterator[Served]:
    from jupyter_server.auth import passwd

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print('hi')")]
    nbformat.write(nb, tmp_path / "q.ipynb")
    port, base = free_port(), new_base()
    env = {**os.environ, PASSWORD_ENV: passwd("right horse battery"), BASE_ENV: base}
    proc = subprocess.Popen(voila_command(port, tmp_path / "q.ipynb", preheat=False),
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=60, proc=proc)  # type: ignore[arg-type]
        yield Served(f"http://127.0.0.1:{port}", base, "", tmp_path, proc)
    finally:
        proc.terminate()
        proc.wait(10)


def _login(served: Served, password: str) -> requests.Response:
    s = requests.Session()
    page = s.get(f"{served.root}{served.base}login", timeout=30)
    xsrf = s.cookies.get("_xsrf") or ""
    return s.post(f"{served.root}{served.base}login", timeout=30, allow_redirects=False,
                  data={"password": password, "_xsrf": xsrf}, cookies=page.cookies)


@pytest.mark.attack("password guessing on a team server's login form, a 90 MB body before "
                    "the login, a request that never finishes its header, GET /logout",
                    "5 wrong passwords a minute per address then 429 (hashed off the event "
                    "loop); a body over 64 KiB refused unread; the header times out; /logout "
                    "clears the cookie and goes to the login page")
def test_the_server_bounds_logins_bodies_and_slow_requests(with_password: Served):
    import socket

    served = with_password
    good = _login(served, "right horse battery")
    assert good.status_code == 302 and "username-" in good.headers.get("Set-Cookie", "")
    logout = requests.get(f"{served.root}{served.base}logout", timeout=30,
                          allow_redirects=False, cookies=good.cookies)
    assert logout.status_code == 302 and logout.headers["Location"].endswith(
        f"{served.base}login")
    codes = [_login(served, f"guess {i}").status_code for i in range(7)]
    assert codes == [401] * 5 + [429] * 2, codes
    assert _login(served, "right horse battery").status_code == 429  # until the window ends
    port = int(served.root.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as big:
        big.sendall(f"POST {served.base}login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"Content-Length: {90 * 1000**2}\r\n\r\n".encode() + b"x" * 1000)
        t0 = time.monotonic()
        answer = big.recv(4096)
        assert time.monotonic() - t0 < 5
        assert answer == b"" or answer.startswith(b"HTTP/1.1 400"), answer  # never buffered
    with socket.create_connection(("127.0.0.1", port), timeout=60) as slow:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
        t0 = time.monotonic()
        assert slow.recv(4096) == b""  # closed by the server ...
        assert time.monotonic() - t0 < 30  # ... after its header timeout (20 s)
    assert requests.get(f"{served.root}{served.base}login", timeout=30).status_code == 200


@pytest.mark.attack("the token in the server log (a failed request carrying it) and in the "
                    "next visitor's preheated kernel (Voila hands it the last visit's full URL)",
                    "the log and every kernel's environment hold no token")
def test_the_token_reaches_neither_the_log_nor_a_kernel(served: Served):
    for _ in range(2):  # the second visit is served by the kernel the first one's refill made
        r = requests.get(f"{served.root}{served.base}", timeout=120,
                         params={"token": served.token, "actor": "0001"})
        assert r.status_code == 200
    requests.get(f"{served.root}{served.base}nothing-here", params={"token": served.token},
                 timeout=30)
    time.sleep(3)  # the refill after the second visit
    envs = []
    for pid in descendants(served.proc.pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"ipykernel_launcher" in cmd:
                envs.append(Path(f"/proc/{pid}/environ").read_bytes())
        except OSError:
            continue
    assert len(envs) >= 2
    assert all(served.token.encode() not in env for env in envs)
    assert any(b"VOILA_REQUEST_URL=" in env and b"actor=0001" in env for env in envs)
    # a deep link's query socket (ui/visit.py) is found under the base path
    assert all(f"VOILA_SERVER_URL={served.base}\0".encode() in env for env in envs)
    assert served.log is not None
    log = served.log.read_text()
    assert "nothing-here" in log and served.token not in log


@pytest.mark.attack("more dashboard pages than the kernel cap, with preheating (the pool's "
                    "refill waits for a free slot)", "503 at once with a sentence saying "
                    "what to do, instead of a visitor held for 60 s")
def test_past_the_cap_a_visitor_is_told_at_once(tmp_path: Path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print('hi')")]
    nbformat.write(nb, tmp_path / "q.ipynb")
    port, token, base = free_port(), "u" * 43, new_base()
    proc = subprocess.Popen(voila_command(port, tmp_path / "q.ipynb", max_kernels=2,
                                          cull_idle_s=120), cwd=tmp_path,
                            env={**os.environ, TOKEN_ENV: token, BASE_ENV: base},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}{base}"
    try:
        wait_for_port(port, timeout=60, proc=proc)  # type: ignore[arg-type]
        time.sleep(3)  # the pool's first kernel is ready
        codes, took = [], []
        for _ in range(4):
            t0 = time.monotonic()
            r = requests.get(url, params={"token": token}, timeout=120)
            codes.append(r.status_code)
            took.append(time.monotonic() - t0)
            if r.status_code == 503:
                assert "pages are open: close one and reload" in r.text, r.text[:500]
            time.sleep(2)  # the refill of the kernel just served
        assert codes[:2] == [200, 200] and codes[2:] == [503, 503], (codes, took)
        assert max(took[2:]) < 5, took
    finally:
        proc.terminate()
        proc.wait(10)
