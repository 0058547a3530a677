"""Browser, team mode: two workstations on one bucket of the moto server. Workstation A is this
test process (its own data folder, a ``TrainingService``); workstation B is a Voila app (its
own data folder) in the browser. A's launch, its end and A's mark show on B's Training page and
Library card within seconds, without a reload; B, launching while A's job runs, is told whose
it is and may launch another anyway."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from actorbench.demo import free_port, start_fake_runpod
from actorbench.demo.runpod_fake import FakeRunPod
from actorbench.demo.server import wait_for_port
from actorbench.demo.uploader import sample_uploader
from actorbench.server.command import voila_command
from actorbench.training import TrainingParams, TrainingService
from actorbench.training.status import ACTIVE
from actorbench.workbench import Workbench
from tests.browser.conftest import choose_actor, open_tab, shot
from tests.browser.test_training_versions import LOADED
from tests.team_setup import ACTORS, atomic_moto_puts, team_bucket, team_env, team_settings

pytestmark = pytest.mark.browser
__all__ = ["atomic_moto_puts"]  # the fixture, used by name
ACTOR = ACTORS[0]
SD15 = TrainingParams.from_preset("sd15", resolution=256)


@dataclass
class Team:
    a: TrainingService  # workstation A: this process
    b_url: str  # workstation B: its dashboard
    fake: FakeRunPod


@pytest.fixture
def team(moto_server, tmp_path: Path, atomic_moto_puts) -> Iterator[Team]:  # type: ignore[no-untyped-def]
    bucket = team_bucket(moto_server, tmp_path)
    a_settings = team_settings(moto_server, tmp_path / "a", bucket, "alice")
    fake = start_fake_runpod(speed=1.0, uploader=sample_uploader(Workbench(a_settings).store))
    a = TrainingService(Workbench(team_settings(moto_server, tmp_path / "a", bucket, "alice",
                                                **fake.env)))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "RUNPOD_", "ACTORBENCH_"))}
    env.update(team_env(moto_server, tmp_path / "b", bucket, "bob", **fake.env))
    env["ACTORBENCH_APP_TOKEN"] = token = secrets.token_urlsafe(32)
    port = free_port()
    log = open(tmp_path / "voila-b.log", "wb")
    proc = subprocess.Popen(voila_command(port, cull_idle_s=30, cull_interval_s=5), env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}/?token={token}"
    try:
        wait_for_port(port, timeout=60, proc=proc)  # type: ignore[arg-type]
        assert requests.get(url, timeout=120).status_code == 200
        yield Team(a, url, fake)
    finally:
        for v in a.versions.load(1):  # no job left running
            if v.status in ACTIVE and v.job_id:
                a.cancel(ACTOR, v.id)
        proc.terminate()
        proc.wait(10)
        fake.stop()
        log.close()


def test_b_follows_a_without_a_reload(browser, team: Team):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.route("**/cdn.jsdelivr.net/**", lambda r: r.abort())
    page.set_default_timeout(30000)
    try:
        page.goto(team.b_url)
        page.wait_for_selector(".ab-app", timeout=60000)
        choose_actor(page, ACTOR)
        open_tab(page, "Training")
        page.wait_for_selector(".ab-versions:has-text('No trainings yet')")
        # A launches: B's table shows the version and who launched it, B's stepper follows it
        v1 = team.a.launch(team.a.prepare(ACTOR, SD15))
        who = f"alice@{v1.machine}"
        page.wait_for_selector(f".ab-versions td.ab-who:has-text('{who}')", timeout=15000)
        page.wait_for_selector(".ab-train-stage .ab-stage:not([data-stage=done])",
                               timeout=15000)
        shot(page, "team-b-sees-a-launch")
        team.a.poll_until_done(ACTOR, timeout=60, interval=0.2)
        page.wait_for_selector(".ab-versions .ab-job-completed", timeout=20000)
        page.wait_for_function(LOADED, arg=[".ab-version-preview img.ab-sample", 4],
                               timeout=30000)
        # A marks it good: B's row says who marked it, and B's Library card is validated
        team.a.mark_good(ACTOR, v1.id)
        page.wait_for_selector(f".ab-versions .ab-who:has-text('marked good by {who}')",
                               timeout=15000)
        page.locator(".ab-version-preview").scroll_into_view_if_needed()
        shot(page, "team-b-sees-a-mark")
        open_tab(page, "Library")
        page.wait_for_selector(".ab-actor-card .ab-validated:has-text('Validated model')",
                               timeout=15000)
        page.wait_for_selector(f".ab-gcard[data-actor='{ACTOR}'] .ab-chip-validated")
        shot(page, "team-b-library-validated")
        # A launches again; B, pressing Start meanwhile, is told whose job runs, and since when
        v2 = team.a.launch(team.a.prepare(ACTOR, SD15))
        open_tab(page, "Training")
        page.wait_for_selector(f".ab-versions td:text-is('{v2.name}')", timeout=15000)
        page.get_by_role("button", name="Start training").click()
        already = page.locator(".ab-already .ab-warn")
        already.wait_for(timeout=30000)
        text = already.inner_text()
        assert f"already has training {v2.name}" in text and f"launched by {who}" in text
        shot(page, "team-b-already-training")
        page.get_by_role("button", name="Launch another anyway").click()
        page.wait_for_selector(".ab-versions td.ab-who:has-text('bob@')", timeout=30000)
        assert page.locator(".ab-already .ab-warn").count() == 0
        shot(page, "team-b-launched-another")
        names = [v.name for v in team.a.versions.load(1)]
        assert names == ["v1", "v2", "v3"]
    finally:
        ctx.close()
