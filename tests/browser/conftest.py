"""The Voila app over a demo world, driven by Playwright in Debian's headless chromium."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from actorbench.demo import (
    DemoWorld,
    LocalS3,
    build_demo,
    free_port,
    start_fake_runpod,
    start_rclone,
)
from actorbench.demo.server import wait_for_port
from actorbench.demo.uploader import sample_uploader
from actorbench.server.command import voila_command
from actorbench.settings import Settings
from actorbench.workbench import Workbench

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
        "--disable-dev-shm-usage"]


@dataclass
class RunningApp:
    url: str  # carries the token, as the URL `actorbench app` prints
    base: str  # the same address without it
    token: str
    world: DemoWorld
    settings: Settings
    s3: LocalS3
    env: dict[str, str]
    pid: int  # Voila's

    def workbench(self) -> Workbench:
        return Workbench(self.settings)

    def actor(self, scenario: str, nth: int = 0) -> str:
        return [n for n in self.world.names if self.world.scenarios[n] == scenario][nth]


@pytest.fixture(scope="session")
def running_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    root = tmp_path_factory.mktemp("app")
    s3 = start_rclone(root / "s3", "story-boards-assets")
    settings0 = Settings.from_env(env={**s3.env, "ACTORBENCH_DATA_DIR": str(root / "data")},
                                  dotenv=False)
    runpod = start_fake_runpod(speed=8.0, uploader=sample_uploader(Workbench(settings0).store))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "RUNPOD_", "ACTORBENCH_"))}
    env.update(s3.env)
    env.update(runpod.env)
    env["ACTORBENCH_DATA_DIR"] = str(root / "data")
    env["ACTORBENCH_APP_TOKEN"] = token = secrets.token_urlsafe(32)
    settings = Settings.from_env(env=env, dotenv=False)
    wb = Workbench(settings)
    world = build_demo(wb.layout, wb.store, settings.region, imaged=16, size=384)
    port = free_port()
    log = open(root / "voila.log", "wb")
    # many pages open and close in a session: their kernels are culled soon after (20 s); the
    # cap itself is tested on a Voila of its own (test_lockdown)
    proc = subprocess.Popen(voila_command(port, cull_idle_s=20, cull_interval_s=5,
                                          max_kernels=16), env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}/"
    url = f"{base}?token={token}"
    try:
        wait_for_port(port, timeout=60, proc=proc)  # type: ignore[arg-type]
        # each GET of the page starts a kernel: ask once, patiently
        assert requests.get(url, timeout=120).status_code == 200
    except Exception as exc:
        proc.kill()
        raise RuntimeError((root / "voila.log").read_text()) from exc
    try:
        yield RunningApp(url, base, token, world, settings, s3, env, proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
        runpod.stop()
        s3.stop()
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: run `make test`, which installs it.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, running_app):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.route("**/cdn.jsdelivr.net/**", lambda r: r.abort())
    pg.set_default_timeout(30000)
    pg.goto(running_app.url)
    pg.wait_for_selector(".ab-app", timeout=60000)
    yield pg
    ctx.close()


def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_tab(page, title: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(".ab-tabs .lm-TabBar-tab").filter(
        has_text=re.compile(rf"^\s*{re.escape(title)}\s*$")).first.click()


def choose_actor(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """The quick way to an actor: search for its name, click its card's number."""
    open_tab(page, "Library")
    page.get_by_placeholder("Search by name or id").fill(name)
    card = page.locator(f".ab-gallery .ab-gcard[data-actor='{name}'] .ab-gcard-id")
    for attempt in range(3):
        card.click()  # (a locator: found again if the search redrew the cards meanwhile)
        try:
            page.wait_for_selector(f".ab-actor-name:has-text('{name}')", timeout=10000)
            return
        except Exception:  # the click landed on cards being redrawn
            shot(page, f"choose-actor-retry-{attempt}")
    raise AssertionError(f"the actor card never showed {name}")


def wait_listed(page) -> None:  # type: ignore[no-untyped-def]
    """The grid's tiles, each badge saying its image's status: the local images show first,
    badged "Checking S3 …" until the S3 listing returns."""
    page.wait_for_selector(".ab-grid .ab-tile")
    page.wait_for_function("() => !document.querySelector('.ab-grid .ab-status-checking')")


def card(page, name: str):  # type: ignore[no-untyped-def]
    """The gallery card of ``name`` (on the page of cards shown)."""
    return page.locator(f".ab-gallery .ab-gcard[data-actor='{name}']")
