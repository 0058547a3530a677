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

from actorbench.appsec import BASE_ENV, TOKEN_ENV, new_base
from actorbench.demo import free_port
from actorbench.demo.server import wait_for_port
from actorbench.ui.serve import voila_command
from tests.test_app_command import descendants


@dataclass
class Served:
    root: str  # http://127.0.0.1:port
    base: str
    token: str
    connections: Path
    proc: subprocess.Popen[bytes]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print('hi')")]
    nbformat.write(nb, tmp_path / "q.ipynb")
    # short: a unix socket's path has at most 107 bytes (a kernel's name is 50 of them)
    connections = Path(tempfile.mkdtemp(prefix="abk-"))
    port, token, base = free_port(), "t" * 43, new_base()
    proc = subprocess.Popen(voila_command(port, tmp_path / "q.ipynb", connections=connections),
                            cwd=tmp_path, env={**os.environ, TOKEN_ENV: token, BASE_ENV: base},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=60, proc=proc)  # type: ignore[arg-type]
        yield Served(f"http://127.0.0.1:{port}", base, token, connections, proc)
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
