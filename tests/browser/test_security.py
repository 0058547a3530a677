"""The running Voila app: loopback only, nothing but the dashboard, no secrets on the page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from tests.browser.conftest import choose_actor, open_tab
from tests.figures import FIGURES
from tests.test_reliability import listening_sockets

pytestmark = pytest.mark.browser

FORBIDDEN = ["voila/files/dashboard.ipynb", "voila/files/conftest.py", "tree",
             "notebooks/dashboard.ipynb", "api/contents", "api/contents/actors.json",
             "api/terminals", "terminals/websocket/1", "files/actors.json", "edit/actors.json",
             "lab", "api/kernels", "api/sessions", "voila/files/actors.json",
             "voila/files/../data/actors.json", "voila/render/../notebooks/dashboard.ipynb",
             "api/nbconvert", "view/actors.json"]


def test_voila_listens_on_loopback_only(running_app):  # type: ignore[no-untyped-def]
    port = urlsplit(running_app.url).port
    assert listening_sockets().get(port) == {"127.0.0.1"}
    FIGURES["servers checked to listen on 127.0.0.1 only"] += 1


@pytest.mark.parametrize("path", FORBIDDEN)
def test_no_notebook_terminal_or_file_endpoints(running_app, path):  # type: ignore[no-untyped-def]
    r = requests.get(running_app.base + path, params={"token": running_app.token},
                     timeout=30)  # Voila redirects to /voila/files/
    assert r.status_code in (403, 404, 405), (path, r.status_code, r.url)
    assert "actors.json" not in r.text or r.status_code == 404
    assert '"training_data"' not in r.text
    FIGURES["Voila endpoints probed and refused"] += 1


def test_page_holds_no_secrets(page, running_app):  # type: ignore[no-untyped-def]
    name = running_app.actor("s3_only", 0)
    choose_actor(page, name)
    open_tab(page, "Training Data")
    page.wait_for_selector(".ab-grid .ab-tile")
    tile = page.locator(".ab-tile", has=page.locator(".ab-status-s3_only")).first
    if tile.count():
        tile.get_by_role("button", name="Preview").click()
        page.wait_for_selector(".ab-preview:has-text('fetched from S3')")
    html = page.content()
    for secret in (running_app.env["AWS_SECRET_ACCESS_KEY"], running_app.env["RUNPOD_API_KEY"],
                   "X-Amz-Signature", "X-Amz-Credential"):
        assert secret not in html
    FIGURES["outputs scanned for secrets"] += 1
