"""Training: formulas, estimates, validation rules, RunPod client, versions, the page."""

from __future__ import annotations

import json
import math
import time

import pytest

from actorbench.demo import start_fake_runpod
from actorbench.demo.portraits import Identity, draw_portrait, png_bytes
from actorbench.errors import ActorbenchError
from actorbench.training import (
    PRESETS,
    RunPodClient,
    RunPodError,
    TrainingParams,
    TrainingService,
    auto_adjust,
    estimate,
    make_params,
)
from tests.helpers import put_remote, wait_until, write_local
from tests.single_backend import backend  # noqa: F401 - one backend here

A = "0001_european_30_female"
IDENT = Identity.for_actor(A, "european", "female", 30)



def portrait(v: int, size: int = 320) -> bytes:
    return png_bytes(draw_portrait(IDENT, v, size))


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize("images", [1, 5, 10, 14, 17, 20, 35, 80, 300])
def test_auto_adjust_formula(preset, images):
    p = TrainingParams.from_preset(preset)
    adj = auto_adjust(p, images)
    q, pre = adj.params, PRESETS[preset]
    assert q.repeats == max(1, math.ceil(200 / images))
    per_epoch = math.ceil(images * q.repeats / q.batch_size)
    assert q.max_train_steps == min(per_epoch * q.epochs, pre.max_steps)
    assert pre.min_steps <= q.max_train_steps <= pre.max_steps
    assert f"ceil(200 / {images})) = {q.repeats}" in adj.formula
    assert str(q.max_train_steps) in adj.formula
    assert not q.flip_aug


def test_civitai_reference_values():
    assert auto_adjust(TrainingParams.from_preset("sdxl"), 14).params.repeats == 15
    assert auto_adjust(TrainingParams.from_preset("sdxl"), 20).params.repeats == 10


def test_invalid_parameters_have_clear_messages():
    with pytest.raises(ActorbenchError) as err:
        make_params(resolution=1000, network_rank=8, network_alpha=16, flip_aug=True,
                    unet_lr=-1, trigger_word="a,b")
    msg = str(err.value)
    for part in ("resolution", "multiple of 64", "network_alpha", "rank (8)", "flip_aug",
                 "faces", "unet_lr", "trigger_word"):
        assert part in msg
    with pytest.raises(ActorbenchError, match="learning_rate: unknown parameter"):
        make_params(learning_rate=1)


def test_estimates_scale_with_steps_gpu_and_resolution():
    p = TrainingParams.from_preset("sdxl", max_train_steps=1000, batch_size=1)
    e = estimate(p, "L40S")
    assert e.seconds == pytest.approx(90 + 0.8 * 1000)
    assert e.cost_usd == pytest.approx(e.seconds * 0.00053)
    assert estimate(p, "H100").seconds < e.seconds < estimate(p, "A6000").seconds
    assert estimate(p.model_copy(update={"max_train_steps": 2000}), "L40S").seconds > e.seconds
    small = make_params(**{**p.model_dump(), "resolution": 512})
    assert estimate(small, "L40S").sec_per_step == pytest.approx(0.2)
    assert e.execution_timeout_ms > e.seconds * 1000
    with pytest.raises(ActorbenchError, match="Unknown GPU"):
        estimate(p, "TPU")


# -- dataset validation ---------------------------------------------------------------------
def codes(wb, resolution=256):
    from actorbench.training import validate_dataset

    plan = wb.engine.plan([A])[A]
    v = validate_dataset(plan, resolution)
    return {f.code: f for f in v.findings}, v


def test_validation_rules(wb):
    for i in range(8):
        put_remote(wb, A, i, portrait(i + 1))
    wb.engine.pull([A])
    found, v = codes(wb)
    assert found["too_few"].level == "blocker" and not v.ok
    for i in range(8, 12):
        put_remote(wb, A, i, portrait(i + 1))
    wb.engine.pull([A])
    found, v = codes(wb)
    assert "too_few" not in found and found["few"].level == "warning" and v.ok
    found, _ = codes(wb, resolution=1024)
    assert found["small"].indices == tuple(range(12))
    # exact duplicate, near duplicate, corrupt, other aspect ratio, not in S3 yet
    write_local(wb, A, 12, portrait(3))
    import io

    from PIL import Image, ImageEnhance
    img = Image.open(io.BytesIO(portrait(5)))
    near = io.BytesIO()
    ImageEnhance.Brightness(img).enhance(1.04).save(near, format="PNG")
    write_local(wb, A, 13, near.getvalue())
    write_local(wb, A, 14, b"\x89PNG\r\n\x1a\nthis is not an image")
    wide = io.BytesIO()
    Image.open(io.BytesIO(portrait(40))).resize((480, 320)).save(wide, format="PNG")
    write_local(wb, A, 15, wide.getvalue())
    found, v = codes(wb)
    assert found["not_in_s3"].level == "blocker" and set(found["not_in_s3"].indices) == {
        12, 13, 14, 15}
    assert found["duplicate"].indices == (2, 12)
    near = [f.indices for f in v.findings if f.code == "near_duplicate"]
    assert near == [(4, 13)]
    assert found["corrupt"].indices == (14,) and found["corrupt"].level == "blocker"
    assert "mixed_aspect" in found
    assert not v.ok


def test_validation_flags_s3_only_images_as_unchecked(wb):
    for i in range(12):
        put_remote(wb, A, i, portrait(i + 1))
    found, v = codes(wb)
    assert v.ok and len(found["unchecked"].indices) == 12


def test_near_duplicate_hash_separates_distinct_portraits():
    import io

    from PIL import Image

    from actorbench.training import dhash

    hashes = [dhash(Image.open(io.BytesIO(portrait(v)))) for v in range(1, 15)]
    dists = [bin(a ^ b).count("1") for i, a in enumerate(hashes) for b in hashes[i + 1:]]
    assert min(dists) > 6  # the demo's distinct images are never flagged as near duplicates


# -- RunPod client against the fake server on 127.0.0.1 ---------------------------------------
@pytest.fixture
def fake():
    f = start_fake_runpod(speed=40.0)
    yield f
    f.stop()


def client_for(fake, **kw):
    return RunPodClient(fake.base_url, fake.endpoint_id, fake.api_key, sleep=lambda s: None,
                        **kw)


def wait_final(client, job_id, limit=200):
    import time

    seen = []
    for _ in range(limit):
        st = client.status(job_id)
        if not seen or seen[-1]["status"] != st["status"]:
            seen.append(st)
        if st["status"] in ("COMPLETED", "FAILED", "TIMED_OUT", "CANCELLED"):
            return seen
        time.sleep(0.02)
    raise AssertionError(seen)


def test_client_job_lifecycle(fake):
    c = client_for(fake)
    job = c.run({"actor": A, "parameters": {"max_train_steps": 100}}, 600000)
    assert job["status"] == "IN_QUEUE"
    seen = wait_final(c, job["id"])
    assert [s["status"] for s in seen] == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]
    assert "progress" in seen[1]["output"]
    assert seen[-1]["output"]["lora_url"].endswith(".safetensors")


def test_client_failed_then_retry_and_timeout_and_cancel(fake):
    c = client_for(fake)
    job = c.run({"actor": A, "simulate": "fail"}, 600000)
    assert wait_final(c, job["id"])[-1]["status"] == "FAILED"
    assert c.retry(job["id"])["status"] == "IN_QUEUE"
    assert wait_final(c, job["id"])[-1]["status"] == "COMPLETED"
    t = c.run({"actor": A, "simulate": "timeout"}, 600000)
    assert wait_final(c, t["id"])[-1]["status"] == "TIMED_OUT"
    k = c.run({"actor": A}, 600000)
    assert c.cancel(k["id"])["status"] == "CANCELLED"
    assert c.status(k["id"])["status"] == "CANCELLED"


def test_client_backs_off_on_429(fake):
    fake.rate_limit_every = 2
    c = client_for(fake)
    job = c.run({"actor": A}, 600000)  # /run is retried on 429: the server refused it
    for _ in range(5):
        assert c.status(job["id"])["status"] in ("IN_QUEUE", "IN_PROGRESS", "COMPLETED")


def test_client_errors_are_clear_and_never_leak_the_key(fake):
    bad = RunPodClient(fake.base_url, fake.endpoint_id, "wrong-key-SECRET", sleep=lambda s: None)
    with pytest.raises(RunPodError) as err:
        bad.status("x")
    assert "401" in str(err.value) and "SECRET" not in str(err.value)
    assert "SECRET" not in repr(bad)
    down = RunPodClient("http://127.0.0.1:9/v2", "e", "k-SECRET", sleep=lambda s: None,
                        attempts=2)
    with pytest.raises(RunPodError, match="cannot reach RunPod") as err:
        down.status("x")
    assert "SECRET" not in str(err.value)
    with pytest.raises(ActorbenchError, match="RUNPOD_API_KEY"):
        RunPodClient(fake.base_url, "e", None)


def test_client_rejects_garbage():
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Garbage(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>oops</html>")

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Garbage)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        c = RunPodClient(f"http://127.0.0.1:{srv.server_address[1]}/v2", "e", "k")
        with pytest.raises(RunPodError, match="not JSON"):
            c.status("x")
    finally:
        srv.shutdown()
        srv.server_close()


# -- the service: launch, no double launch, resume, mark as good -------------------------------
@pytest.fixture
def svc(wb, fake):
    for i in range(12):
        put_remote(wb, A, i, portrait(i + 1))
    wb.engine.pull([A])
    return TrainingService(wb, client_for(fake))


def test_launch_poll_complete_and_mark_good(svc, wb, fake):
    prep = svc.prepare(A, TrainingParams.from_preset("sd15", resolution=256))
    assert prep.validation.ok and prep.params.repeats == 17
    v1 = svc.launch(prep)
    job = fake.jobs[v1.job_id]
    images = job.input["images"]
    assert len(images) == 12 and "X-Amz-Signature" in images[0]["url"]
    assert images[0]["name"] == f"{A}_0.png" and len(images[0]["etag"]) == 32
    import jsonschema

    from worker.contract import INPUT

    jsonschema.validate(job.input, INPUT)  # what the reference worker accepts
    assert job.policy["executionTimeout"] == prep.estimate.execution_timeout_ms
    with pytest.raises(ActorbenchError, match="already has training v1"):
        svc.launch(prep)  # a double click never launches twice
    assert len(fake.jobs) == 1
    versions = svc.poll_until_done(A, timeout=30, interval=0.02)
    assert versions[0].status == "COMPLETED" and versions[0].lora_url
    v2 = svc.launch(svc.prepare(A, TrainingParams.from_preset("sd15", resolution=256)))
    svc.poll_until_done(A, timeout=30, interval=0.02)
    svc.mark_good(A, v1.id)
    svc.mark_good(A, v2.id)
    stored = json.loads(wb.layout.versions_path(1).read_text())["versions"]
    assert [v["isGood"] for v in stored] == [False, True]
    assert stored[0]["images"][0]["etag"] and "key" in stored[0]["images"][0]
    reg = json.loads(wb.settings.registry_path.read_text())
    vlm = next(a for a in reg if a["name"] == A)["validated_lora_model"]
    assert vlm["version_id"] == v2.id and vlm["lora_url"] == stored[1]["lora_url"]
    assert vlm["parameters"]["base_model"] == "sd15"
    assert svc.last_params(A).base_model == "sd15"  # the last used come back


def test_resume_polling_after_restart(svc, wb, fake):
    v = svc.launch(svc.prepare(A, TrainingParams.from_preset("sd15", resolution=256)))
    fresh = TrainingService(type(wb)(wb.settings, client=wb.client), client_for(fake))
    versions = fresh.poll_until_done(A, timeout=30, interval=0.02)
    assert versions[0].id == v.id and versions[0].status == "COMPLETED"


def test_blocked_dataset_is_not_launched(svc, wb, fake):
    write_local(wb, A, 30, portrait(30))
    prep = svc.prepare(A, TrainingParams.from_preset("sd15", resolution=256))
    with pytest.raises(ActorbenchError, match="Sync to S3 first"):
        svc.launch(prep)
    assert not fake.jobs


def test_mark_good_refuses_unfinished_and_unknown(svc):
    v = svc.launch(svc.prepare(A, TrainingParams.from_preset("sd15", resolution=256)))
    with pytest.raises(ActorbenchError, match="only a completed version"):
        svc.mark_good(A, v.id)
    with pytest.raises(ActorbenchError, match="no version"):
        svc.mark_good(A, "nope")


def test_malformed_versions_file_is_reported(svc, wb):
    p = wb.layout.versions_path(1)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text('{"versions": [{"name": 3}]}')
    with pytest.raises(ActorbenchError, match="string id"):
        svc.poll(A)
    assert p.read_text() == '{"versions": [{"name": 3}]}'


def test_batch_launch_adjusts_each_actor(svc, wb, fake):
    B = "0002_african_45_male"
    for i in range(16):
        put_remote(wb, B, i, portrait(i + 20))
    out = svc.launch_batch([A, B, "0003_east_asian_22_female"],
                           TrainingParams.from_preset("sd15", resolution=256))
    assert out[A].parameters["repeats"] == 17 and out[B].parameters["repeats"] == 13
    assert "Only 0 images" in out["0003_east_asian_22_female"]


def test_training_page(svc, wb):
    from actorbench.ui import App

    app = App(wb)
    page = app.page("Training")
    page.service = svc
    app.state.actor = A
    page.base_model.value = "sd15"
    page.resolution.value = 256
    page.auto_button.click()
    page.model.wait_idle()  # auto-adjust lists S3 off the UI thread
    assert "ceil(200 / 12)) = 17" in page.formula.value and "Estimate" in page.estimate.value
    assert page.repeats.value == 17
    page.start_button.click()
    page.start_button.click()  # a double click
    page.worker.wait()
    page.poller.wait(30)
    assert "Completed" in page.versions_table.value and "COMPLETED" not in page.live.value
    assert len(svc.versions.load(1)) == 1
    page.good_button.click()
    assert "validated model" in page.live.value
    assert "Validated model" in app.library.card.value or app.state.wb.registry.get(
        A).validated_lora_model


def test_training_page_shows_the_dataset_at_once_and_keeps_saved_parameters(svc, wb):
    from actorbench.ui import App

    app = App(wb)
    page = app.page("Training")
    page.service = svc
    assert page.save_button.disabled and page.cancel_button.disabled  # no actor yet
    app.state.actor = A
    page.model.wait_idle()  # the listing and the images are read off the UI thread
    assert "12 images" in page.overview.value and "12 in S3" in page.overview.value
    # 320 px portraits, trained at 1024: usable, but that is a warning, never a green OK
    assert "ab-warn" in page.validation.value and "Dataset OK" not in page.validation.value
    assert "below the training resolution" in page.validation.value
    assert "Estimate" in page.estimate.value
    assert page.cancel_button.disabled  # nothing runs
    page.base_model.value = "sd15"
    page.repeats.value = 33
    page.save_button.click()
    page.model.wait_idle()
    assert "Saved" in page.params_message.value
    page.base_model.value = "flux1-dev"  # changed, not saved
    app.close()
    again = App(wb)
    page = again.page("Training")
    again.state.actor = A
    again.wait_idle()
    assert (page.base_model.value, page.repeats.value, page.resolution.value) == ("sd15", 33, 512)
    assert "Saved parameters restored" in page.params_message.value
    page.base_model.value = "sdxl"  # 1024 px: the images are judged again
    again.wait_idle()
    assert "(1024 px)" in page.validation.value and "(512 px)" not in page.validation.value
    again.state.actor = "0002_african_45_male"
    assert page.params_message.value == "" and "12 images" not in page.overview.value
    again.wait_idle()
    assert "Only 0 images in S3" in page.validation.value and "ab-error" in page.validation.value
    again.close()


def test_training_page_follows_only_the_chosen_actors_jobs(wb):
    """A job of A runs; B is chosen: A's poll stops drawing (the page showed A's versions
    under B's name until A's job ended) and, back on A, its job is followed again."""
    from actorbench.ui import App

    slow = start_fake_runpod(speed=1.0, queue_s=1.0, run_s=30.0)
    try:
        for i in range(12):
            put_remote(wb, A, i, portrait(i + 1))
        wb.engine.pull([A])
        svc = TrainingService(wb, client_for(slow))
        app = App(wb)
        page = app.page("Training")
        page.service = svc
        app.state.actor = A
        v = svc.launch(svc.prepare(A, TrainingParams.from_preset("sd15", resolution=256)))
        page.start_polling()
        assert page.poller.busy
        app.state.actor = "0002_african_45_male"  # no versions
        page.poller.wait(15)  # A's poll stopped at its next wait, not when A's job ends
        assert not page.poller.busy
        shown = page.versions_table.value
        time.sleep(1.5)  # A's job moves on meanwhile; B's page must not show it
        assert page.versions_table.value == shown and v.id not in shown
        app.state.actor = A
        wait_until(lambda: page.poller.busy)  # followed again, once its ledger is read
        deadline = time.monotonic() + 20
        while "In progress" not in page.versions_table.value \
                and "Queued" not in page.versions_table.value:
            assert time.monotonic() < deadline, page.versions_table.value
            time.sleep(0.2)
    finally:
        slow.stop()
