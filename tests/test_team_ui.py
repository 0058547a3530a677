"""Team mode on the pages: another workstation's launch and mark show on this one's Training
page and Library card without a reload (``ui.team_follow``)."""

from __future__ import annotations

import threading
import traceback

from actorbench.demo import start_fake_runpod
from actorbench.training import TrainingParams, TrainingService
from actorbench.ui import App
from actorbench.workbench import Workbench
from tests.helpers import wait_until
from tests.team_setup import ACTORS, atomic_moto_puts, team_bucket, team_settings

__all__ = ["atomic_moto_puts"]  # the fixture, used by name
ACTOR = ACTORS[0]




def test_the_training_page_and_the_library_follow_the_team(moto_server, tmp_path,
                                                           atomic_moto_puts):
    fake = start_fake_runpod(speed=40.0)
    bucket = team_bucket(moto_server, tmp_path)
    alice = TrainingService(Workbench(team_settings(moto_server, tmp_path / "alice", bucket,
                                                    "alice", **fake.env)))
    bob = Workbench(team_settings(moto_server, tmp_path / "bob", bucket, "bob", **fake.env))
    app = App(bob)
    try:
        page = app.page("Training")
        app.state.actor = ACTOR
        app.wait_idle()
        assert "No trainings yet" in page.versions_table.value
        v = alice.launch(alice.prepare(ACTOR, TrainingParams.from_preset("sd15",
                                                                        resolution=256)))
        # Alice's launch, on Bob's page: its row says who launched it, from where
        wait_until(lambda: f"alice@{v.machine}" in page.versions_table.value)
        alice.poll_until_done(ACTOR, timeout=30, interval=0.05)
        wait_until(lambda: "Completed" in page.versions_table.value)
        alice.mark_good(ACTOR, v.id)
        wait_until(lambda: f"marked good by alice@{v.machine}" in page.versions_table.value)
        wait_until(lambda: "Validated model" in app.library.card.value)
        assert bob.registry.get(ACTOR).validated_lora_model["version_id"] == v.id
        # and Bob, launching while Alice's second job runs, is told whose it is
        alice.launch(alice.prepare(ACTOR, TrainingParams.from_preset("sd15", resolution=256)))
        page.base_model.value, page.resolution.value = "sd15", 256
        page.start_button.click()
        page.worker.wait()
        assert "already has training v2" in page.status.already.value
        assert f"launched by alice@{v.machine}" in page.status.already.value
    finally:
        app.state._team_follower.stop()
        app.close()
        for actor_version in alice.versions.load(1):
            if str(actor_version.status) in ("IN_QUEUE", "IN_PROGRESS"):
                alice.cancel(ACTOR, actor_version.id)
        fake.stop()


class ThreadLog:
    """The workbench's store, recording which thread called it (the UI thread must not)."""

    def __init__(self, store: object) -> None:
        self._store, self.ui_calls = store, []
        self.ui_thread = threading.get_ident()

    def __getattr__(self, name: str) -> object:
        value = getattr(self._store, name)
        if not callable(value):
            return value

        def call(*args: object, **kwargs: object) -> object:
            if threading.get_ident() == self.ui_thread:
                self.ui_calls.append((name, "".join(traceback.format_stack(limit=20))))
            return value(*args, **kwargs)

        return call


def test_the_training_page_reads_the_shared_ledger_off_the_ui_thread(moto_server, tmp_path,
                                                                     atomic_moto_puts):
    """Choosing an actor in team mode: the saved parameters and the shared ledger are read
    from S3 in the background (the page said nothing for as long as S3 took, or hung)."""
    bucket = team_bucket(moto_server, tmp_path)
    alice = TrainingService(Workbench(team_settings(moto_server, tmp_path / "alice", bucket,
                                                    "alice")))
    alice.save_params(ACTOR, TrainingParams.from_preset("sd15", resolution=384))
    bob = Workbench(team_settings(moto_server, tmp_path / "bob", bucket, "bob"))
    log = ThreadLog(bob.store)
    bob.__dict__["store"] = log  # before the team is built: its documents go through it
    app = App(bob)
    try:
        page = app.page("Training")
        app.wait_idle()
        log.ui_calls.clear()
        app.state.actor = ACTOR  # on this thread, as a click in the kernel
        training = [stack for name, stack in log.ui_calls if "pages/training/" in stack]
        assert training == [], training[0]
        app.wait_idle()
        wait_until(lambda: "No trainings yet" in page.versions_table.value)
        assert page.resolution.value == 384  # Alice's saved parameters, read in the background
    finally:
        follower = getattr(app.state, "_team_follower", None)
        if follower is not None:
            follower.stop()
        app.close()
