"""Trained versions scored by likeness: the demo's RunPod stand-in renders a well-trained
version's samples from the actor's photographs and an undertrained one's from another person's;
the better version and checkpoint are suggested (never marked), and `actorbench versions` and
`actorbench faces` print it."""

from __future__ import annotations

import io
import json
import uuid

import pytest

from actorbench.actors import Actor, Registry
from actorbench.demo import photos as ph
from actorbench.demo import start_fake_runpod
from actorbench.demo.uploader import sample_uploader
from actorbench.settings import Settings
from actorbench.storage.client import make_s3_client
from actorbench.training import TrainingParams, TrainingService
from actorbench.workbench import Workbench
from tests.test_train_cli import run
from tests.test_training import client_for

A = "0001_european_30_male"


def _png(img) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def world(moto_server, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    photos = ph.fetch_photos()
    bucket = f"ab-{uuid.uuid4().hex[:10]}"
    env = {**moto_server.env, "ACTORBENCH_DATA_DIR": str(tmp_path / "data"),
           "ACTORBENCH_BUCKET": bucket}
    settings = Settings.from_env(env=env, dotenv=False)
    client = make_s3_client(settings)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={
        "LocationConstraint": settings.region})
    (tmp_path / "data").mkdir()
    Registry(settings.registry_path, [Actor(1, A)]).save()
    obama = [ph.load_rgb(photos[n]) for n in ("obama.jpg", "obama2.jpg", "obama3.jpg")]
    for i in range(12):
        img = ph.variant(obama[i % 3], i).resize((512, 640))
        client.put_object(Bucket=bucket, Key=f"{settings.prefix}/{A}/{A}_{i}.png",
                          Body=_png(img))
    wb = Workbench(settings)
    wb.engine.pull([A])
    base = wb.layout.base_image_path(A)
    base.parent.mkdir(parents=True, exist_ok=True)
    base.write_bytes(_png(obama[0]))
    fake = start_fake_runpod(speed=40.0, uploader=sample_uploader(wb.store))
    for k, v in {**env, **fake.env}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)
    yield wb, fake
    fake.stop()


def test_good_and_poor_versions_are_scored_and_the_better_suggested(world, capsys):  # type: ignore[no-untyped-def]
    wb, fake = world
    svc = TrainingService(wb, client_for(fake))
    for steps in (1500, 400):  # v1 learned the face (samples at 750, 1500); v2 did not
        params = TrainingParams.from_preset("sd15", resolution=512, max_train_steps=steps)
        svc.launch(svc.prepare(A, params, adjust=False))
        svc.poll_until_done(A, timeout=60, interval=0.05)
    v1, v2 = svc.versions.load(1)
    assert len(v1.samples) == 4 and len(v2.samples) == 4

    from actorbench.training.likeness import version_likeness

    ident, scores, best = version_likeness(wb.layout, wb.store, A, [v1, v2])
    assert ident.reference is not None and ident.reference.source == "base"
    good, poor = scores
    assert good.likeness is not None and good.likeness > 0.6  # distance < 0.48
    assert poor.likeness is not None and poor.likeness < 0.4  # another person: > 0.72
    assert good.one_face == 1.0 and poor.one_face == 1.0
    assert [c.step for c in good.checkpoints] == [750, 1500]
    assert best is not None and best[0] == v1.id and best[1] in (750, 1500)
    assert not any(v.isGood for v in svc.versions.load(1))  # suggested, never marked

    code, out, _ = run(capsys, "versions", A, "--json")
    assert code == 0
    doc = json.loads(out)["likeness"]
    assert doc["suggested"] == {"version_id": v1.id, "step": best[1]}
    by = {v["name"]: v for v in doc["versions"]}
    assert by["v1"]["likeness"] > 0.6 > 0.4 > by["v2"]["likeness"]
    assert by["v2"]["samples"][0]["distance"] > 0.72
    code, out, _ = run(capsys, "versions", A)
    assert "suggested: v1 at step" in out and "<- suggested" in out.split("v1", 2)[2]

    # the notebook's table and the reports' identity tab
    from actorbench.notebook import Notebook

    df = Notebook(wb.settings, client=wb._client, store=wb.__dict__.get("store")).faces(A)
    assert len(df) == 12 and set(df["findings"]) == {"Same person"}
    assert df.attrs["health"].startswith("12 of 12 fit")
    from actorbench.reports.identity import build_identity_report, identity_plot
    from actorbench.reports.plots import png

    report = build_identity_report([ident], {A: scores})
    row = report.actors.iloc[0]
    assert row["fit"] == 12 and row["outliers"] == 0 and "no profile" in row["lacks"]
    assert list(report.versions["version"]) == ["v1", "v2"]
    assert report.versions["likeness"].iloc[0] > 0.6 > report.versions["likeness"].iloc[1]
    assert png(identity_plot(report)).startswith(b"\x89PNG")

    code, out, _ = run(capsys, "faces", A, "--json")
    assert code == 0
    actor = json.loads(out)["actors"][0]
    assert actor["fit"] == 12 and actor["reference"]["source"] == "base"
    code, out, _ = run(capsys, "faces", A)
    assert out.startswith(f"{A}: 12 of 12 fit (reference: {A}_base, base)")
    # another reference, picked; then back to the automatic one
    code, out, _ = run(capsys, "faces", A, "--reference", f"{A}_4.png")
    assert code == 0 and out.startswith(f"{A}: 12 of 12 fit (reference: {A}_4.png, chosen)")
    code, _, err = run(capsys, "faces", A, "--reference", "nothing.png")
    assert code == 2 and "'nothing.png' is not a training image" in err
    code, out, _ = run(capsys, "faces", A, "--reference", "auto")
    assert f"(reference: {A}_base, base)" in out
    code, _, err = run(capsys, "faces", A, "--confirm", "../x.png")
    assert code == 2 and "not a training image" in err

    # an image only in S3 is looked at too, from a copy kept by ETag (never in training_data/)
    biden = ph.variant(ph.load_rgb(ph.fetch_photos()["biden.jpg"]), 3).resize((512, 1100))
    wb.store.put_bytes(wb.layout.image_key(A, 12), _png(biden))
    code, out, _ = run(capsys, "faces", A, "--s3")
    assert f"{A}_12.png (in S3 only): Other person?" in out
    assert not wb.layout.image_path(A, 12).exists()
    assert len(list((wb.layout.data_dir / ".cache" / "faces-s3").iterdir())) == 1
    code, out, _ = run(capsys, "faces", A)  # without --s3: this disk only
    assert f"{A}_12.png" not in out


def test_faces_cli_names_unknown_actors_and_needs_a_name(world, capsys):  # type: ignore[no-untyped-def]
    code, _, err = run(capsys, "faces")
    assert code == 2 and "Name at least one actor" in err
    code, _, err = run(capsys, "faces", "nobody")
    assert code == 2 and "nobody" in err


def test_without_the_extra_the_faces_command_says_how_to_add_it(world, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    from actorbench.faces import models

    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
    code, _, err = run(capsys, "faces", A)
    assert code == 2 and err.count("\n") == 1 and "pip install 'actorbench[faces]'" in err
