"""The server ships: its data found through importlib.resources, its process free of widget
code, and an install outside any checkout serving the dashboard (`actorbench app`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from importlib.resources import files
from pathlib import Path

import pytest
import requests

from actorbench.demo import free_port
from actorbench.server.paths import DASHBOARD, TEMPLATES

CHECKOUT = Path(__file__).resolve().parents[1]


def test_the_server_finds_its_template_and_dashboard_as_package_data():
    here = files("actorbench.server")
    assert here.joinpath("templates", "index.html.j2").is_file()
    assert here.joinpath("dashboard.ipynb").is_file()
    assert (TEMPLATES / "index.html.j2").is_file()
    # in a checkout the packaged notebook is notebooks/dashboard.ipynb itself: one source
    assert DASHBOARD.resolve() == (CHECKOUT / "notebooks" / "dashboard.ipynb").resolve()
    cells = json.loads(DASHBOARD.read_text())["cells"]
    assert any("App.from_settings()" in "".join(c["source"]) for c in cells)


def test_the_server_and_the_app_command_import_no_widget_code():
    code = ("import sys, actorbench.server.voila_server, actorbench.server.command, "
            "actorbench.cli.app; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'ipywidgets' "
            "or m.startswith('actorbench.ui')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout.strip()
    assert out == "[]"


def _copy_checkout(to: Path) -> Path:
    """The checkout's files (tracked and new, not ignored) with their links: pip builds in the
    source folder, and this keeps the worktree free of build/ and *.egg-info."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"],
                            cwd=CHECKOUT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        src, dst = CHECKOUT / name, to / name
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the work tree, not yet in the index
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            dst.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, dst)
    return to


@pytest.mark.slow
def test_a_fresh_install_outside_the_checkout_serves_the_dashboard(tmp_path):
    source = _copy_checkout(tmp_path / "source")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "RUNPOD_", "ACTORBENCH_", "PYTHON", "VIRTUAL_ENV"))}
    done = subprocess.run([str(py), "-m", "pip", "install", "-q", str(source)], env=env,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    shutil.rmtree(source)  # nothing may come from the source any more
    where = subprocess.run(
        [str(py), "-c", "import actorbench.server.paths as p; "
         "from actorbench.ui.widgets.common import CSS; "  # the style sheets: package data
         "print(p.__file__); print(p.DASHBOARD.is_file() and not p.DASHBOARD.is_symlink() "
         "and '.ab-stepper' in CSS)"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True)
    module, packaged = where.stdout.split()
    assert module.startswith(str(venv)) and packaged == "True"

    port = free_port()
    env["ACTORBENCH_DATA_DIR"] = str(tmp_path / "data")
    proc = subprocess.Popen([str(venv / "bin" / "actorbench"), "app", "--port", str(port),
                             "--no-demo"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
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
        assert serving.wait(240), "".join(lines[-30:])
        printed = re.search(  # the app lives under its own base path (docs/reliability.md)
            rf"serving on (http://127\.0\.0\.1:{port}/ab-[\w-]+/\?token=([\w-]{{40,}})) ",
            "".join(lines))
        assert printed, "".join(lines[-30:])
        r = requests.get(printed.group(1), timeout=240)
        assert r.status_code == 200 and "voila" in r.text.lower(), r.text[:2000]
        assert requests.get(printed.group(1).split("?")[0], timeout=60,
                            allow_redirects=False).status_code == 302  # no token: the login
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(10)
        assert proc.stdout is not None
        proc.stdout.close()
