"""Reports on a known world: counts, coverage and bytes; exports read back; plots render."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from actorbench.reports import all_pngs, build_report, to_html, write_csvs
from tests.helpers import png, put_remote, write_local
from tests.single_backend import backend  # noqa: F401 - one backend here

A, B, C = "0001_european_30_female", "0002_african_45_male", "0003_east_asian_22_female"



@pytest.fixture
def world(wb):
    for i in range(4):
        put_remote(wb, A, i, png(i))
    wb.engine.pull([A], only={0, 1, 2})          # A: 3 synced, 1 s3_only
    for i in range(2):
        put_remote(wb, B, i, png(10 + i))
    wb.engine.pull([B])
    write_local(wb, B, 1, png(99, 90))            # B: 1 synced, 1 local_modified
    write_local(wb, B, 5, png(55))                # B: 1 local_only
    wb.layout.versions_path(3).parent.mkdir(parents=True, exist_ok=True)
    wb.layout.versions_path(3).write_text(json.dumps({"versions": [{"id": "v1"}, {"id": "v2"}]}))
    wb.registry.update(C, lambda raw: raw.update(validated_lora_model={"version_id": "v2"}))
    return wb


def test_numbers(world):
    r = build_report(world.engine, world.registry, world.layout)
    a = r.actors.set_index("actor")
    assert a.loc[A, ["synced", "s3_only", "images_s3", "images_local"]].tolist() == [3, 1, 4, 3]
    assert a.loc[A, "coverage"] == 0.75
    assert a.loc[B, ["synced", "local_modified", "local_only"]].tolist() == [1, 1, 1]
    assert a.loc[B, "coverage"] == 0.5
    assert a.loc[A, "bytes_s3"] == sum(len(png(i)) for i in range(4))
    assert a.loc[A, "bytes_local"] == sum(len(png(i)) for i in range(3))
    assert pd.isna(a.loc[C, "coverage"]) and a.loc[C, "trained_versions"] == 2
    assert bool(a.loc[C, "validated"]) and pd.notna(a.loc[A, "last_sync"])
    t = r.totals.iloc[0]
    assert (t["actors"], t["actors_with_images"], t["images_s3"], t["synced"]) == (3, 2, 6, 4)
    assert t["coverage"] == pytest.approx(4 / 6)
    assert (t["trained_actors"], t["validated_actors"]) == (1, 1)
    assert len(r.images) == 7 and set(r.images["actor"]) == {A, B}
    g = r.facets["gender"].set_index("gender")
    assert g.loc["female", "actors"] == 2 and g.loc["male", "images_s3"] == 2


def test_exports_read_back(world, tmp_path):
    r = build_report(world.engine, world.registry, world.layout)
    paths = write_csvs(r, tmp_path / "csv")
    assert {p.name for p in paths} >= {"images.csv", "actors.csv", "totals.csv",
                                       "by_ethnicity.csv"}
    back = pd.read_csv(tmp_path / "csv" / "actors.csv").set_index("actor")
    assert back.loc[A, "coverage"] == 0.75 and back.loc[B, "local_only"] == 1
    imgs = pd.read_csv(tmp_path / "csv" / "images.csv")
    assert imgs.groupby("status").size().to_dict() == r.images.groupby("status").size().to_dict()
    html = to_html(r)
    assert html.count("data:image/png;base64,") == 5 and A in html
    assert "<th>coverage</th>" in html and "<th>by ethnicity</th>" not in html


def test_plots_render_to_png(world):
    r = build_report(world.engine, world.registry, world.layout)
    for name, data in all_pngs(r).items():
        assert data[:8] == b"\x89PNG\r\n\x1a\n", name
        assert len(data) > 5000, name


def test_reports_page(world):
    from actorbench.ui import App

    app = App(world)
    page = app.page("Reports")
    page.build_button.click()
    page.worker.wait()
    # A: 4 images, 3 here, all 4 in S3; B: 3 images, all here, 1 of them the same in S3
    assert "Backed up in S3" in page.table.value and "86% downloaded here" in \
        page.totals.value.replace("<b>", "").replace("</b>", "")
    assert "71%</b> backed up in S3" in page.totals.value and "3 actors" in page.totals.value
    page.sort_by.value = "backed_up"
    assert list(page.open_actor.options) == [B, A]
    page.open_actor.value = A
    page.open_button.click()
    assert app.state.actor == A and app.tabs.selected_index == list(app.tabs.titles).index(
        "Training Data")
    assert len(page.plots.children) == 5


def test_coverage_as_downloaded_here_and_backed_up_in_s3(wb):
    """Three images never pushed: all here, none safe in S3 (not "coverage 1.00")."""
    for i in range(3):
        write_local(wb, C, i, png(i))
    r = build_report(wb.engine, wb.registry, wb.layout)
    c = r.actors.set_index("actor").loc[C]
    assert (c["images"], c["images_local"], c["images_backed_up"]) == (3, 3, 0)
    assert (c["downloaded"], c["backed_up"]) == (1.0, 0.0)
    t = r.totals.iloc[0]
    assert (t["downloaded"], t["backed_up"], t["fully_synced_actors"]) == (1.0, 0.0, 0)


def test_words_on_the_reports_page(world):
    """Counts as integers, sizes in KB, measures as percentages, statuses as labels."""
    import re

    from actorbench.ui import App
    from actorbench.ui.pages.reports.view import totals_line

    r = build_report(world.engine, world.registry, world.layout)
    line = re.sub("<[^>]+>", "", totals_line(r.totals))
    assert line.startswith("3 actors · 2 with images · 0 fully synced · 86% downloaded here")
    assert "71% backed up in S3 · 1 validated model ·" in line and " KB here" in line
    assert not re.search(r"\d\.0\b", line)
    app = App(world)
    page = app.page("Reports")
    page.build_button.click()
    page.worker.wait()
    table = page.table.value
    assert "<th>Backed up in S3</th>" in table and "<th>Downloaded here</th>" in table
    assert "S3 only 1" in table and "Modified locally 1" in table and "75%" in table
    assert "s3_only" not in re.sub("<[^>]+>", "", table)  # (only in class names)
    assert [t for t in page.plots.titles] == ["Synced per actor", "Image status",
                                              "Balance by facet", "Storage",
                                              "Training coverage"]
    assert page.sections.titles == ("Library", "Training", "Identity")  # versions, cost; faces
    assert "0 versions" in page.training.totals.value
    app.close()
