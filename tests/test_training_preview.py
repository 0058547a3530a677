"""The Training page's stage stepper, version previews (samples from S3 beside the base image,
loss curve, two versions side by side), who launched and who marked; the Reports page's Training
tab in words; hostile samples shown as text; "Launch another anyway"."""

from __future__ import annotations

import json
import re

import pytest
import traitlets as t

from actorbench.demo import start_fake_runpod
from actorbench.demo.uploader import sample_uploader
from actorbench.errors import UnsafePathError
from actorbench.fsutil import atomic_write_json
from actorbench.present.html import esc
from actorbench.present.words import money
from actorbench.reports.plots import loss_curve, loss_points, png
from actorbench.reports.training import build_training_report
from actorbench.training import TrainingParams, TrainingService, TrainingVersion
from actorbench.ui import App
from actorbench.ui.pages.reports.training_panel import actors_table, totals_words
from actorbench.ui.pages.training.model import VersionsModel
from actorbench.ui.pages.training.rows import stage_html, stage_label, version_row
from actorbench.ui.pages.training.sample_thumbs import SampleThumbs, sample_key
from tests.helpers import wait_until
from tests.hostile import MARK, PAYLOAD, assert_inert
from tests.test_escaping import html_values
from tests.test_training import A, client_for, portrait

SD15 = TrainingParams.from_preset("sd15", resolution=256)


@pytest.fixture(name="backend")
def backend(moto_server):  # type: ignore[no-untyped-def]
    """moto as a server: the RunPod stand-in fetches the job's images by presigned URL."""
    return moto_server


def version(**kw: object) -> TrainingVersion:
    raw = {"id": "v1id", "name": "v1", "created_at": "2026-01-01T10:00:00Z",
           "parameters": {"base_model": "sd15", "max_train_steps": 400}, "images": [], **kw}
    return TrainingVersion.from_dict(raw)


# -- the stage, in words ---------------------------------------------------------------------
@pytest.mark.parametrize(("status", "progress", "stage", "words"), [
    ("LAUNCHING", None, "queued", "Queued: waiting for a GPU"),
    ("IN_QUEUE", None, "queued", "Queued: waiting for a GPU"),
    ("IN_PROGRESS", {"stage": "downloading", "eta_s": 200}, "downloading",
     "Downloading the training images · about 3 min left"),
    ("IN_PROGRESS", {"stage": "training", "step": 120, "total_steps": 400, "eta_s": 90},
     "training", "Training: step 120 / 400 · about 2 min left"),
    ("IN_PROGRESS", {"stage": "sampling", "step": 200, "total_steps": 400}, "sampling",
     "Sampling: rendering sample images at step 200 / 400"),
    ("IN_PROGRESS", {"stage": "uploading"}, "uploading", "Uploading the LoRA and its samples"),
    ("IN_PROGRESS", {"stage": PAYLOAD, "step": PAYLOAD, "eta_s": PAYLOAD}, "training",
     "Training"),
    ("COMPLETED", {"stage": "done", "progress": 1.0}, "done", "Done: LoRA and samples are in S3"),
])
def test_stage_label_and_stepper_follow_the_job(status, progress, stage, words):
    v = version(status=status, progress=progress)
    assert stage_label(v) == words
    markup = stage_html(v)
    assert f'data-stage="{stage}"' in markup and f"ab-stage-{stage}" in markup
    assert markup.count("ab-step-current") == 1 and words in markup
    assert_inert(markup)


def test_an_ended_job_says_how_instead_of_a_stepper():
    v = version(status="FAILED", error=PAYLOAD)
    assert stage_label(v) == f"Failed: {PAYLOAD}"
    markup = stage_html(v)
    assert "ab-stage-ended" in markup and "ab-stepper" not in markup and esc(MARK) in markup
    assert_inert(markup)
    assert_inert(stage_html(version(status=PAYLOAD, name=PAYLOAD)))


# -- who launched, who marked ------------------------------------------------------------------
def test_a_row_says_who_launched_and_who_marked():
    v = version(status="COMPLETED", user="alice", machine="ws-a", isGood=True)
    mark = {"version_id": "v1id", "user": "bob", "machine": "ws-b",
            "marked_at": "2026-01-02T09:30:00+00:00"}
    row = version_row(v, mark)
    assert "alice@ws-a" in row and "marked good by bob@ws-b · 2 Jan" in row
    assert "marked good" not in version_row(v, {**mark, "version_id": "other"})
    hostile = version(status="COMPLETED", user=PAYLOAD, machine=PAYLOAD, isGood=True)
    row = version_row(hostile, {"version_id": "v1id", "user": PAYLOAD, "machine": PAYLOAD,
                                "marked_at": PAYLOAD})
    assert row.count(esc(MARK)) == 5  # who launched, who marked, and when (not a time)
    assert_inert(row)


# -- the compare model -----------------------------------------------------------------------
def test_versions_model_offers_completed_versions_and_pairs_two():
    m = VersionsModel()
    m.offer([version(id="a", name="v1", status="COMPLETED"),
             version(id="b", name="v2", status="FAILED")])
    assert [c[1] for c in m.choices] == ["a"] and m.chosen == "a" and m.pair() is None
    assert "there is one" in m.why_no_pair()
    vs = [version(id="a", name="v1", status="COMPLETED"),
          version(id="b", name="v2", status="FAILED"),
          version(id="c", name="v3", status="COMPLETED"),
          version(id="d", name="v4", status="COMPLETED")]
    m.offer(vs[:3])
    assert m.chosen == "c"  # nobody chose: the newest is previewed
    m.choose("chosen", "a")
    m.offer(vs)
    assert [c[1] for c in m.choices] == ["d", "c", "a"]  # newest first
    assert m.chosen == "a"  # chosen, and still a choice: kept
    assert (m.left, m.right) == ("c", "d")  # the two newest, the older on the left
    assert [v.name for v in m.pair()] == ["v3", "v4"]
    m.choose("left", "d")
    assert m.pair() is None and m.why_no_pair() == "Choose two different versions."
    m.choose("left", "a")
    m.offer(vs)  # a poll: the choice stays
    assert [v.name for v in m.pair()] == ["v1", "v4"]
    with pytest.raises(t.TraitError, match="No completed version 'b'"):
        m.choose("right", "b")  # failed: nothing to show
    m.offer(vs[:2])
    assert (m.chosen, m.left, m.right) == ("a", "", "")


# -- the Training tab of the reports, in words ---------------------------------------------------
def test_training_tab_counts_in_words_and_dollars():
    def v(name: str, status: str, est: float, ms: int | None = None) -> TrainingVersion:
        return version(id=name, name=name, status=status, parameters={
            "base_model": "sdxl", "gpu": "L40S", "max_train_steps": 1000},
            estimate={"seconds": 1000, "cost_usd": est, "gpu": "L40S"},
            timings={"execution_ms": ms} if ms else {})

    ledgers = {"0001_a": [v("v1", "COMPLETED", 0.40, 1_000_000), v("v2", "FAILED", 0.40),
                          v("v3", "IN_PROGRESS", 0.50)],
               "0002_b": [v("v1", "COMPLETED", 0.20, 500_000)],
               "0003_c": []}
    report = build_training_report(ledgers)
    words = totals_words(report.totals)
    cost = report.totals["cost_usd"]
    assert "4 versions" in words and "<b>2</b> completed" in words and "<b>1</b> failed" in words
    assert "67%</b> succeeded" in words and f"${cost:.2f}" in words
    ratio = report.totals["estimate_vs_actual"]
    assert f"actual cost <b>{ratio:.0%} of the estimate</b>" in words
    table = actors_table(report)
    assert ".0<" not in table and "nan" not in table.lower()  # whole numbers, never 2.0
    assert table.count("<tr>") == 3  # a header and the two actors with versions
    assert "<td class=\"ab-col-versions\">3</td>" in table and "50%" in table
    assert money(0.001) == "under $0.01" and money(None) == "—" and money(12.5) == "$12.50"
    empty = build_training_report({})
    assert "0 versions" in totals_words(empty.totals) and "No training yet" in \
        actors_table(empty)
    hostile = build_training_report({PAYLOAD: [v("v1", "COMPLETED", 0.1, 1000)]})
    assert_inert(actors_table(hostile))


def test_loss_points_keep_numbers_only_and_the_curve_draws():
    assert loss_points([[0, 0.3], [10, 0.2], ["x", 1], [5, float("nan")], [1, 2, 3], PAYLOAD,
                        [True, 0.1]]) == [(0.0, 0.3), (10.0, 0.2)]
    assert loss_curve(PAYLOAD) is None and loss_curve([[0, 0.3]]) is None
    assert png(loss_curve([[0, 0.3], [50, 0.1]], f"{PAYLOAD} $x")).startswith(b"\x89PNG")


# -- samples from S3, hostile ones refused ------------------------------------------------------
def test_sample_urls_outside_the_bucket_are_refused(wb):
    bucket = wb.store.bucket
    assert sample_key(f"s3://{bucket}/loras/a/s.png", bucket) == "loras/a/s.png"
    for bad, why in (("s3://other/loras/s.png", "not"), (f"s3://{bucket}/loras/../x.png", ".."),
                     ("javascript:alert(1)", "s3://"), (7, "s3://"),
                     (f"https://{bucket}.s3.amazonaws.com/x.png", "s3://")):
        with pytest.raises(UnsafePathError, match=re.escape(why)):
            sample_key(bad, bucket)
    # a hostile answer pointing at the team registry or another actor's training data
    for elsewhere in ("system_actors/actorbench_state/registry.json",
                      "system_actors/training_data/a/a_0.png"):
        with pytest.raises(UnsafePathError, match="not under system_actors/loras/|not a PNG"):
            sample_key(f"s3://{bucket}/{elsewhere}", bucket, "system_actors/loras")
    assert sample_key(f"s3://{bucket}/system_actors/loras/a/v/samples/000100_00.png", bucket,
                      "system_actors/loras") == "system_actors/loras/a/v/samples/000100_00.png"
    wb.store.put_bytes("loras/a/s.png", portrait(1))
    wb.store.put_bytes("loras/a/not-an-image.png", b"<svg onload=x>")
    thumbs = SampleThumbs(wb.store, wb.layout.thumbs_dir())
    url = f"s3://{bucket}/loras/a/s.png"
    assert thumbs.peek(url) == (None, "")
    assert thumbs.make([url, f"s3://{bucket}/loras/a/not-an-image.png",
                        f"s3://{bucket}/loras/a/gone.png"])
    assert thumbs.peek(url)[0].startswith("data:image/jpeg;base64,")
    assert thumbs.peek(f"s3://{bucket}/loras/a/not-an-image.png") == ("",
                                                                       "not a readable image")
    assert thumbs.peek(f"s3://{bucket}/loras/a/gone.png")[1]
    again = SampleThumbs(wb.store, wb.layout.thumbs_dir())  # another page: from the disk cache
    assert again.peek(url) == thumbs.peek(url)


def test_hostile_samples_prompts_and_names_are_shown_as_text(wb):
    bucket = wb.store.bucket
    samples = [{"step": PAYLOAD, "prompt": PAYLOAD, "url": f"s3://other-bucket/{PAYLOAD}.png"},
               {"step": 1, "prompt": PAYLOAD, "url": f"s3://{bucket}/loras/../{PAYLOAD}.png"},
               {"step": 2, "prompt": PAYLOAD, "url": "javascript:" + PAYLOAD},
               {"step": 3, "prompt": PAYLOAD, "url": f"s3://{bucket}/loras/{PAYLOAD}.png"},
               {"step": 4, "prompt": 5, "url": 6}, PAYLOAD]
    records = [{"id": f"h{i}", "name": f"v{i}", "created_at": PAYLOAD, "status": "COMPLETED",
                "job_id": "job-1", "lora_url": f"s3://{bucket}/loras/{i}.safetensors",
                "parameters": {"base_model": PAYLOAD}, "images": [], "samples": samples,
                "loss": [[0, 0.3], [PAYLOAD, 0.2], [9, 0.1]], "user": PAYLOAD,
                "machine": PAYLOAD, "timings": {"cost_usd": PAYLOAD},
                "estimate": {"cost_usd": PAYLOAD}, "isGood": i == 1} for i in (1, 2)]
    atomic_write_json(wb.layout.versions_path(1), {"versions": records})
    reg = json.loads(wb.settings.registry_path.read_text())
    reg[0]["validated_lora_model"] = {"version_id": "h1", "version_name": PAYLOAD,
                                      "lora_url": f"s3://{bucket}/loras/1.safetensors",
                                      "user": PAYLOAD, "machine": PAYLOAD,
                                      "marked_at": PAYLOAD}
    atomic_write_json(wb.settings.registry_path, reg)
    wb.reload_registry()
    app = App(wb)
    try:
        page = app.page("Training")
        app.state.actor = A
        app.wait_idle()
        shown = list(html_values(page))
        for value in shown:
            assert_inert(value)
        preview, compare = page.panel.preview.value, page.panel.compare.value
        assert "ab-compare-col" in compare and esc(MARK) in preview
        assert "other-bucket" in preview  # refused, by name
        assert "not allowed" in preview and "not an s3:// URL" in preview
        assert f"marked good by {esc(PAYLOAD)}" in page.versions_table.value
        assert bytes(page.panel.loss.value).startswith(b"\x89PNG")  # the numeric points only
    finally:
        app.close()


# -- the page: launch, stages, samples beside the base image, compare, mark ----------------------
@pytest.fixture
def fake_up(wb):
    f = start_fake_runpod(speed=40.0, uploader=sample_uploader(wb.store))
    yield f
    f.stop()


def ready(wb) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import put_remote

    for i in range(12):
        put_remote(wb, A, i, portrait(i + 1))
    wb.engine.pull([A])
    base = wb.layout.base_image_path(A)
    base.parent.mkdir(parents=True, exist_ok=True)
    base.write_bytes(portrait(0, 384))


def test_training_page_previews_compares_and_marks(wb, fake_up):
    ready(wb)
    svc = TrainingService(wb, client_for(fake_up))
    app = App(wb)
    try:
        page = app.page("Training")
        page.service = svc
        app.state.actor = A
        page.base_model.value, page.resolution.value = "sd15", 256
        stages: list[str] = []
        page.stage.observe(lambda c: stages.append(c["new"].split('data-stage="')[1][:8]),
                           "value")
        for _ in range(2):
            assert page.start_button.click() is None
            page.worker.wait()
            page.poller.wait(60)
            app.wait_idle()
        assert stages[0].startswith("queued") and stages[-1].startswith("done")
        assert "Done: LoRA and samples are in S3" in page.stage.value
        v1, v2 = svc.versions.load(1)
        assert len(v2.samples) == 4 and v2.loss and v2.user and v2.machine
        table = page.versions_table.value
        assert table.count('class="ab-sample-mini"') == 4  # each version's last two samples
        assert 'class="ab-base-image"' in table and f"{v1.user}@{v1.machine}" in table
        preview = page.panel.preview.value
        assert page.version_pick.value == v2.id and "<b>v2</b>" in preview
        assert preview.count('class="ab-sample"') == 4 and "ab-base-image" in preview
        assert bytes(page.panel.loss.value).startswith(b"\x89PNG")
        compare = page.panel.compare.value
        assert compare.count("ab-compare-col") == 2 and compare.count('class="ab-sample"') == 8
        assert compare.index("<b>v1</b>") < compare.index("<b>v2</b>")
        page.version_pick.value = v1.id
        assert "<b>v1</b>" in page.panel.preview.value
        page.good_button.click()
        assert "v1 is now the validated model" in page.live.value
        assert "marked good by" in page.versions_table.value
        assert wb.registry.get(A).validated_lora_model["version_id"] == v1.id
        # a 2x screen: the preview's samples and base image again, twice the pixels
        assert set(jpeg_sides(page.panel.preview.value)) == {128, 160}
        app.screen.value = "2"
        app.wait_idle()
        wait_until(lambda: set(jpeg_sides(page.panel.preview.value)) == {256, 320})
    finally:
        app.close()


def jpeg_sides(html: str) -> list[int]:
    """The widths of the JPEG thumbnails in ``html`` (data URIs)."""
    import base64
    import io
    import re

    from PIL import Image

    return [Image.open(io.BytesIO(base64.b64decode(m))).size[0]
            for m in re.findall(r'src="data:image/jpeg;base64,([^"]+)"', html)]


def test_a_running_job_is_named_and_another_can_be_launched(wb):
    ready(wb)
    slow = start_fake_runpod(speed=0.5)
    try:
        svc = TrainingService(wb, client_for(slow))
        first = svc.launch(svc.prepare(A, SD15))
        app = App(wb)
        page = app.page("Training")
        page.service = svc
        app.state.actor = A
        page.base_model.value, page.resolution.value = "sd15", 256
        page.start_button.click()
        page.worker.wait()
        assert len(slow.jobs) == 1
        already = page.status.already.value
        assert f"already has training {first.name}" in already and "launched by" in already
        assert f"{first.user}@{first.machine}" in already
        assert page.status.another_button.layout.display != "none"
        page.status.another_button.click()
        page.worker.wait()
        assert len(slow.jobs) == 2 and page.status.already.value == ""
        assert page.status.another_button.layout.display == "none"
        assert [v.name for v in svc.versions.load(1)] == ["v1", "v2"]
        assert "Queued" in page.stage.value or "Training" in page.stage.value
        for v in svc.versions.load(1):
            svc.cancel(A, v.id)
        page.poller.wait(30)
        app.close()
    finally:
        slow.stop()
