"""Generating images: reproducible, never mirrored, never colliding, recorded; img2img faults."""

from __future__ import annotations

import io
import json
import threading

import pytest
from PIL import Image, ImageChops, ImageOps

from actorbench.demo.img2img_fake import start_fake_img2img
from actorbench.demo.portraits import Identity, draw_portrait, png_bytes
from actorbench.errors import ActorbenchError
from actorbench.generate import AugmentBackend, Img2ImgBackend, Img2ImgError, generate_images
from tests.helpers import put_remote, write_local
from tests.single_backend import backend  # noqa: F401 - one backend here

A = "0001_european_30_female"



@pytest.fixture
def base():
    return draw_portrait(Identity.for_actor(A, "european", "female", 30), 0, 512)


@pytest.fixture
def gwb(wb, base):
    p = wb.layout.base_image_path(A)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(png_bytes(base))
    return wb


def diff(a: Image.Image, b: Image.Image) -> float:
    d = ImageChops.difference(a.convert("L"), b.convert("L").resize(a.size))
    return sum(i * n for i, n in enumerate(d.histogram())) / (a.width * a.height)


def test_augment_is_reproducible_and_seed_dependent(base):
    b = AugmentBackend(size=256)
    one = [v.image.tobytes() for v in b.generate(base, 4, seed=7)]
    two = [v.image.tobytes() for v in b.generate(base, 4, seed=7)]
    other = [v.image.tobytes() for v in b.generate(base, 4, seed=8)]
    assert one == two and one != other and len(set(one)) == 4


def test_augment_never_mirrors(base):
    """Each variation is closer to the unmirrored transform of the base than to its mirror."""
    b = AugmentBackend(size=256)
    for v in b.generate(base, 12, seed=3):
        m = v.meta
        assert m["mirrored"] is False and abs(m["rotation_deg"]) <= 10
        # undo the geometry (crop, rotation) on the base and on its mirror; compare
        x0, y0, x1, y1 = m["crop_box"]
        plain = base.crop((x0, y0, x1, y1)).rotate(m["rotation_deg"])
        mirrored = ImageOps.mirror(base).crop((x0, y0, x1, y1)).rotate(m["rotation_deg"])
        side = min(plain.size)
        sq = ((plain.width - side) // 2, (plain.height - side) // 2,
              (plain.width + side) // 2, (plain.height + side) // 2)
        out = ImageOps.autocontrast(v.image.convert("L"))
        d_plain = diff(out, ImageOps.autocontrast(plain.crop(sq).convert("L")))
        d_mirror = diff(out, ImageOps.autocontrast(mirrored.crop(sq).convert("L")))
        assert d_plain < d_mirror, m


def test_generate_saves_next_free_indices_and_records_the_run(gwb):
    put_remote(gwb, A, 0, b"x")
    put_remote(gwb, A, 5, b"y")
    write_local(gwb, A, 7, b"z")
    r = generate_images(gwb, A, 3, "augment", seed=1, options={"size": 128})
    assert r.indices == [8, 9, 10]
    plan = gwb.engine.plan([A])[A]
    assert {c.index: c.status.value for c in plan.changes if c.index >= 8} == {
        8: "local_only", 9: "local_only", 10: "local_only"}
    for i in r.indices:
        with Image.open(gwb.layout.image_path(A, i)) as img:
            assert img.size == (128, 128)
    r2 = generate_images(gwb, A, 2, "augment", seed=2, options={"size": 128})
    assert r2.indices == [11, 12]
    req = json.loads(gwb.layout.request_json(A).read_text())
    runs = req["generation_runs"]
    assert [run["seed"] for run in runs] == [1, 2]
    assert runs[0]["backend"] == "augment" and runs[0]["images"][0]["index"] == 8
    assert "rotation_deg" in runs[0]["images"][0] and runs[0]["created_at"]
    pushed = gwb.engine.push([A], only=set(r.indices))[A]
    assert pushed.transferred == 3


def test_concurrent_generations_never_collide(gwb):
    results = []
    threads = [threading.Thread(target=lambda s=s: results.append(
        generate_images(gwb, A, 3, "augment", seed=s, options={"size": 64}))) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    indices = sorted(i for r in results for i in r.indices)
    assert indices == list(range(12))
    assert len(json.loads(gwb.layout.request_json(A).read_text())["generation_runs"]) == 4


def test_malformed_request_json_changes_nothing(gwb):
    req = gwb.layout.request_json(A)
    req.parent.mkdir(parents=True, exist_ok=True)
    req.write_text("{not json")
    with pytest.raises(ActorbenchError, match="malformed JSON"):
        generate_images(gwb, A, 2, "augment")
    assert gwb.layout.local_images(A) == {} and req.read_text() == "{not json"


def test_img2img_against_a_fake_service(gwb):
    fake = start_fake_img2img()
    try:
        b = Img2ImgBackend(fake.url, backoff_s=0)
        r = generate_images(gwb, A, 2, seed=5, options={"size": 256, "trigger_word": "ohwx"},
                            backend_impl=b)
        assert r.backend == "img2img" and len(r.indices) == 2
        p = fake.payloads[0]
        assert p["seed"] == 5000 and p["width"] == 256 and 0 < p["denoising_strength"] < 1
        assert "ohwx" in p["prompt"] and p["negative_prompt"]
        Image.open(io.BytesIO(gwb.layout.image_path(A, r.indices[0]).read_bytes())).verify()
        run = json.loads(gwb.layout.request_json(A).read_text())["generation_runs"][0]
        assert run["backend"] == "img2img" and "prompt" in run["images"][0]
    finally:
        fake.stop()


@pytest.mark.parametrize("mode,needle", [("fail", "HTTP 500"), ("garbage", "unreadable image"),
                                         ("slow", "no answer within")])
def test_img2img_failures_are_clear_and_write_nothing(gwb, mode, needle):
    fake = start_fake_img2img(mode, delay=1.5)
    try:
        b = Img2ImgBackend(fake.url, timeout=0.5, attempts=2, backoff_s=0)
        with pytest.raises(Img2ImgError, match=needle):
            generate_images(gwb, A, 2, backend_impl=b)
        assert gwb.layout.local_images(A) == {}
    finally:
        fake.stop()


def test_img2img_retries_a_flaky_service(gwb):
    fake = start_fake_img2img("flaky")
    try:
        b = Img2ImgBackend(fake.url, attempts=3, backoff_s=0)
        assert len(generate_images(gwb, A, 2, backend_impl=b).indices) == 2
        assert fake.calls == 4
    finally:
        fake.stop()


def test_img2img_needs_a_url():
    with pytest.raises(ActorbenchError, match="ACTORBENCH_IMG2IMG_URL"):
        Img2ImgBackend(None)


def test_generate_panel(gwb):
    from actorbench.ui import App

    app = App(gwb)
    app.state.actor = A
    td = app.training_data
    td.generate.count.value = 2
    td.generate.size.value = 512
    td.generate.button.click()
    td.generate.worker.wait()
    assert "Generated 2 images" in td.generate.message.value
    assert td.generate.bar.value == 2
    assert sum("ab-status-local_only" in t.value for t in td.images.shown) \
        == 2
