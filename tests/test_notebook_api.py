"""`import actorbench as ab; wb = ab.open()`: DataFrames, sync with bars, and rich reprs that
escape what files and servers supply."""

from __future__ import annotations

import pandas as pd

import actorbench as ab
from actorbench.notebook import reprs
from tests.helpers import png, put_remote, write_local
from tests.single_backend import backend  # noqa: F401 - one backend here

A = "0001_european_30_female"


def test_open_reads_the_environment(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ACTORBENCH_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("ACTORBENCH_BUCKET", "my-bucket")
    wb = ab.open()
    assert wb.settings.bucket == "my-bucket" and wb.settings.data_dir == tmp_path / "d"
    assert ab.open(tmp_path / "e").settings.data_dir == tmp_path / "e"


def test_actors_status_pull_push_report(nb):  # type: ignore[no-untyped-def]
    df = nb.actors
    assert list(df.index) == [A, "0002_african_45_male", "0003_east_asian_22_female"]
    assert df.loc[A, "ethnicity"] == "european" and df.loc[A, "age"] == 30
    for i in range(3):
        put_remote(nb, A, i, png(i))
    st = nb.status("1")
    assert list(st["status"]) == ["S3 only"] * 3 and st["in S3"].notna().all()
    dry = nb.pull(A, dry_run=True)
    assert dry[A].describe() == "download 3"
    assert not nb.layout.image_path(A, 0).exists()
    res = nb.pull(A, progress=False)
    assert res[A].transferred == 3 and "3 downloaded" in res._repr_html_()
    write_local(nb, A, 7, png(7))
    assert nb.push(1, progress=False)[A].transferred == 1
    assert set(nb.status(A)["status"]) == {"Local"}
    report = nb.report()
    assert isinstance(report.actors, pd.DataFrame) and len(report.actors) == 3


def test_reprs_escape_markup(nb):  # type: ignore[no-untyped-def]
    bad = '<img src=x onerror="alert(1)">'
    nb.registry.update(A, lambda raw: raw.update(
        {"validated_lora_model": {"version": bad}}))
    card = nb.reload_registry() and nb.actor(A)
    out = card._repr_html_()
    assert "<img src=x" not in out and "&lt;img src=x onerror=&quot;" in out
    (nb.layout.training_dir(A)).mkdir(parents=True, exist_ok=True)
    (nb.layout.training_dir(A) / f"{A}_07.png").write_bytes(png(7))
    plan = nb.engine.plan([A])[A]
    assert f"{A}_07.png" in reprs.plan_html(plan)
    (nb.layout.training_dir(A) / "<b id=x>.png").write_bytes(b"x")
    html = reprs.html_of(nb.engine.plan([A])[A])
    assert "<b id=x>" not in html and "&lt;b id=x&gt;" in html


def test_domain_types_carry_no_html_and_the_extension_registers_it(nb):  # type: ignore[no-untyped-def]
    from IPython.core.interactiveshell import InteractiveShell

    from actorbench.notebook import load_ipython_extension

    (nb.layout.training_dir(A)).mkdir(parents=True, exist_ok=True)
    (nb.layout.training_dir(A) / f"{A}_07.png").write_bytes(png(7))
    plan = nb.engine.plan([A])[A]
    assert not hasattr(plan, "_repr_html_")
    shell = InteractiveShell.instance()
    try:
        load_ipython_extension(shell)
        data, _ = shell.display_formatter.format(plan)
        assert f"{A}_07.png" in data["text/html"]
        actor = nb.registry.get(A)
        assert "<b>" + A in shell.display_formatter.format(actor)[0]["text/html"]
    finally:
        InteractiveShell.clear_instance()
