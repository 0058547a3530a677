"""`actorbench app` itself (what `make app` runs): demo world, S3 and RunPod stand-ins, Voila on
127.0.0.1, and a plain `kill` that leaves nothing behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from actorbench.demo import free_port

pytestmark = pytest.mark.slow


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_app_serves_the_dashboard_on_loopback_and_kill_stops_everything(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "RUNPOD_", "ACTORBENCH_"))}
    env["ACTORBENCH_DATA_DIR"] = str(tmp_path / "data")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "actorbench.cli", "app", "--port", str(port),
                             "--s3-dir", str(tmp_path / "s3")], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    serving = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "serving on" in line:
                serving.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert serving.wait(180), "".join(lines[-30:])
        printed = re.search(rf"serving on (http://127\.0\.0\.1:{port}(/ab-[\w-]{{24}}/)"
                            rf"\?token=([\w-]{{40,}})) ", "".join(lines))
        # the URL carries a fresh token, as Jupyter's does, under a fresh base path
        assert printed, "".join(lines[-30:])
        url, base = printed.group(1), printed.group(2)
        r = requests.get(url, timeout=120)  # printed once it listens: the first try loads
        assert r.status_code == 200 and "voila" in r.text.lower()
        assert requests.get(f"http://127.0.0.1:{port}{base}", timeout=60,
                            allow_redirects=False).status_code == 302  # no token: the login
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=60).status_code == 404
        # loopback only: the port answers on 127.0.0.1 and on no other address of this host
        other = socket.gethostbyname(socket.gethostname())
        if not other.startswith("127."):
            with socket.socket() as s, pytest.raises(OSError):
                s.settimeout(2)
                s.connect((other, port))
        assert (tmp_path / "data" / "actors.json").exists()  # the demo world was built
        below = descendants(proc.pid)
        assert below, "voila and the S3 server should run as child processes"
        connections = {Path(c[c.index("-f") + 1]).parents[1] for c in (
            Path(f"/proc/{p}/cmdline").read_text().split("\0") for p in below
            if Path(f"/proc/{p}/cmdline").exists()) if "ipykernel_launcher" in c and "-f" in c}
        assert len(connections) == 1 and next(iter(connections)).name.startswith("ab-kernels-")
    finally:
        proc.send_signal(signal.SIGTERM)  # a plain `kill`, not Ctrl-C
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        finally:
            reader.join(10)  # (its output ends with it)
            assert proc.stdout is not None
            proc.stdout.close()
    deadline = time.monotonic() + 30
    while any(alive(p) for p in below):
        assert time.monotonic() < deadline, f"left running: {[p for p in below if alive(p)]}"
        time.sleep(0.5)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the dashboard port is still open"
    assert not any(c.exists() for c in connections), "the kernels' IPC folder outlived the app"


def test_app_refuses_a_port_in_use_clearly_and_leaves_nothing_running(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "RUNPOD_", "ACTORBENCH_"))}
    env["ACTORBENCH_DATA_DIR"] = str(tmp_path / "data")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "actorbench.cli", "app", "--port",
                               str(port), "--s3-dir", str(tmp_path / "s3")], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert f"Port {port} on 127.0.0.1 is in use" in done.stderr, done.stderr[-2000:]
    assert "serving on" not in done.stdout
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path / "s3")], capture_output=True)
    assert leftovers.stdout == b"", "the demo's S3 server outlived the refusal"
