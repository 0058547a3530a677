"""Another local user's server on another loopback port, visited by the browser after login,
receives nothing that opens the dashboard (cookies ignore ports: their scope is the base path
and SameSite). A real Voila, a real chromium, and a plain HTTP server recording headers."""

from __future__ import annotations

import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import nbformat
import pytest

from actorbench.demo import free_port
from actorbench.demo.server import wait_for_port
from actorbench.server.command import voila_command
from actorbench.server.security import BASE_ENV, TOKEN_ENV, new_base

pytestmark = pytest.mark.browser


class _Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Cookie") or ""))
        body = b"ok"
        if self.path.startswith("/evil"):  # a cross-site page that sends the browser on
            target = self.path.split("?to=", 1)[1]
            body = f'<a id="go" href="{target}">go</a>'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.attack("a second server on another 127.0.0.1 port, visited by the browser after "
                    "login, directly and from a cross-site page (even at the app's own path)",
                    "receives no cookie: the login cookie is scoped to the unguessable base "
                    "path and SameSite=Strict")
def test_another_port_receives_nothing_that_opens_the_dashboard(browser, tmp_path):  # type: ignore[no-untyped-def]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import ipywidgets as w\n"
        "button, label = w.Button(description='go'), w.Label('dashboard')\n"
        "button.on_click(lambda _: setattr(label, 'value', 'the kernel answered'))\n"
        "display(w.VBox([button, label]))")]
    nbformat.write(nb, tmp_path / "d.ipynb")
    port, token, base = free_port(), "c" * 43, new_base()
    proc = subprocess.Popen(voila_command(port, tmp_path / "d.ipynb", preheat=False),
                            cwd=tmp_path, env={**os.environ, TOKEN_ENV: token, BASE_ENV: base},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    other = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    theirs = f"http://127.0.0.1:{other.server_port}"
    ctx = browser.new_context()
    try:
        wait_for_port(port, timeout=60, proc=proc)  # type: ignore[arg-type]
        page = ctx.new_page()
        page.goto(f"http://127.0.0.1:{port}{base}?token={token}", timeout=120000)
        page.wait_for_selector("text=dashboard", timeout=120000)
        page.click("button:has-text('go')")  # the kernel's websocket works under the base path
        page.wait_for_selector("text=the kernel answered", timeout=60000)
        login = [c for c in ctx.cookies() if c["name"].startswith("username-")]
        assert login and login[0]["path"] in (base, base.rstrip("/"))
        assert login[0]["sameSite"] == "Strict" and login[0]["expires"] == -1  # session
        page.goto(f"{theirs}/")
        page.goto(f"{theirs}/anything?x=1")
        # a cross-site page (localhost is another site than 127.0.0.1) sends the browser to
        # the other server at the app's very path: SameSite=Strict keeps the cookie home
        page.goto(f"http://localhost:{other.server_port}/evil?to={theirs}{base}")
        page.click("#go")
        page.wait_for_url(f"{theirs}{base}")
        seen = dict(_Recorder.seen)
        assert {"/", "/anything?x=1", base} <= seen.keys(), seen
        assert not any("username-" in cookie for cookie in seen.values()), seen
    finally:
        ctx.close()
        other.shutdown()
        other.server_close()
        proc.terminate()
        proc.wait(10)
