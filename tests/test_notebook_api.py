"""`import actorbench as ab; wb = ab.open()`: DataFrames, sync with bars, and rich reprs that
escape what files and servers supply."""

from __future__ import annotations

import pandas as pd

import actorbench as ab
from tests.helpers import png, put_remote, write_local
from tests.single_backend import backend  # noqa: F401 - one backend here

A = "0001_european_30_female"


def test_open_reads_the_environment(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ACTORBENCH_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("ACTORBENCH_BUCKET", "my-bucket")
    wb = ab.open()
    assert wb.settings.bucket == "my-bucket" and wb.settings.data_dir == tmp_path / "d"
    assert ab.open(tmp_path / "e").settings.data_dir == tmp_path / "e"


def test_actors_status_pull_push_report(wb):  # type: ignore[no-untyped-def]
    df = wb.actors
    assert list(df.index) == [A, "0002_african_45_male", "0003_east_asian_22_female"]
    assert df.loc[A, "ethnicity"] == "european" and df.loc[A, "age"] == 30
    for i in range(3):
        put_remote(wb, A, i, png(i))
    st = wb.status("1")
    assert list(st["status"]) == ["S3 only"] * 3 and st["in S3"].notna().all()
    dry = wb.pull(A, dry_run=True)
    assert dry[A].describe() == "download 3"
    assert not wb.layout.image_path(A, 0).exists()
    res = wb.pull(A, progress=False)
    assert res[A].transferred == 3 and "3 downloaded" in res._repr_html_()
    write_local(wb, A, 7, png(7))
    assert wb.push(1, progress=False)[A].transferred == 1
    assert set(wb.status(A)["status"]) == {"Local"}
    report = wb.report()
    assert isinstance(report.actors, pd.DataFrame) and len(report.actors) == 3


def test_reprs_escape_markup(wb):  # type: ignore[no-untyped-def]
    bad = '<img src=x onerror="alert(1)">'
    wb.registry.update(A, lambda raw: raw.update(
        {"validated_lora_model": {"version": bad}}))
    card = wb.reload_registry() and wb.actor(A)
    out = card._repr_html_()
    assert "<img src=x" not in out and "&lt;img src=x onerror=&quot;" in out
    (wb.layout.training_dir(A)).mkdir(parents=True, exist_ok=True)
    (wb.layout.training_dir(A) / f"{A}_07.png").write_bytes(png(7))
    plan = wb.engine.plan([A])[A]
    assert f"{A}_07.png" in plan._repr_html_()
    (wb.layout.training_dir(A) / "<b id=x>.png").write_bytes(b"x")
    html = wb.engine.plan([A])[A]._repr_html_()
    assert "<b id=x>" not in html and "&lt;b id=x&gt;" in html
