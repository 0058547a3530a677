"""Drive the dashboard through its widgets and models, without a browser."""

from __future__ import annotations

import threading

import pytest

from actorbench.sync import ImageStatus
from actorbench.ui import App
from tests.helpers import partial_files, png, put_remote, statuses, write_local
from tests.single_backend import backend  # noqa: F401 - one backend here

A = "0001_european_30_female"



@pytest.fixture
def app(wb):
    a = App(wb)
    yield a
    a.close()


def badges(view):
    out = {}
    for tile in view.tiles[:len(view.grid.children)]:
        for s in ImageStatus:
            if f"ab-status-{s.value}" in tile.html.value:
                out[tile.change.index] = s.value
    return out


def test_library_filters_and_selection(app):
    lib = app.library
    assert "3" in lib.count.value
    lib.search.value = "african"
    assert list(lib.picker.options) == ["0002_african_45_male"]
    lib.search.value = ""
    lib.gender.value = "female"
    assert len(lib.picker.options) == 2
    lib.picker.value = "0003_east_asian_22_female"
    assert app.state.actor == "0003_east_asian_22_female"
    assert "0003_east_asian_22_female" in lib.card.value  # at once; the counts follow
    lib.model.wait_idle()
    assert "ab-counts" in lib.card.value and "Status …" not in lib.card.value
    lib.model.reset()
    assert len(lib.picker.options) == 3


def test_pull_updates_badges(app, wb):
    for i in range(4):
        put_remote(wb, A, i, png(i))
    write_local(wb, A, 9, png(9))
    app.state.actor = A
    app.wait_idle()  # the pages list S3 off the UI thread
    td = app.training_data
    assert badges(td) == {0: "s3_only", 1: "s3_only", 2: "s3_only", 3: "s3_only", 9: "local_only"}
    td.pull_button.click()
    td.worker.wait()
    assert badges(td) == {0: "synced", 1: "synced", 2: "synced", 3: "synced", 9: "local_only"}
    assert td.files_bar.value == td.files_bar.max == 4
    assert td.bytes_bar.value == td.bytes_bar.max
    assert "4 downloaded" in td.status_line.value
    td.push_button.click()
    td.worker.wait()
    assert set(badges(td).values()) == {"synced"}


def test_selection_limits_the_sync(app, wb):
    for i in range(6):
        put_remote(wb, A, i, png(i))
    app.state.actor = A
    app.wait_idle()  # the pages list S3 off the UI thread
    td = app.training_data
    for tile in td.tiles[:6]:
        tile.select.value = tile.change.index in (1, 4)
    td.pull_button.click()
    td.worker.wait()
    assert sorted(wb.layout.local_images(A)) == [1, 4]
    assert "2 selected" in td.status_line.value or "2 downloaded" in td.status_line.value


def test_errors_are_displayed(app, wb):
    write_local(wb, A, 0, png(1))
    wb.engine.push([A])
    write_local(wb, A, 0, png(2, 80))
    put_remote(wb, A, 0, png(3, 90))
    app.state.actor = A
    app.wait_idle()  # the pages list S3 off the UI thread
    td = app.training_data
    td.pull_button.click()
    td.worker.wait()
    assert "ab-error" in td.status_line.value and "Conflict" in td.result.value
    # an exception inside the worker lands on the page, not in a log
    wb.store.bucket = "bucket-that-does-not-exist"
    td.push_button.click()
    td.worker.wait()
    assert "does not exist" in td.errors.value


def test_cancel_leaves_no_partial_file(app, wb):
    for i in range(10):
        put_remote(wb, A, i, png(i, 300))
    app.state.actor = A
    app.wait_idle()  # the pages list S3 off the UI thread
    td = app.training_data
    gate = threading.Event()
    real = td._on_progress

    def progress(ev):
        real(ev)
        if ev.kind == "bytes" and not gate.is_set():
            gate.set()
            td.cancel_button.click()

    td._on_progress = progress  # observe progress the way the page does
    td.pull_button.click()
    td.worker.wait()
    assert "Cancelled" in td.status_line.value
    assert partial_files(wb.settings.data_dir) == []
    for idx, p in wb.layout.local_images(A).items():
        assert p.read_bytes() == png(idx, 300)


def test_preview_local_and_s3_only(app, wb):
    put_remote(wb, A, 0, png(0))
    write_local(wb, A, 1, png(1))
    app.state.actor = A
    app.wait_idle()  # the pages list S3 off the UI thread
    td = app.training_data
    by_idx = {t.change.index: t for t in td.tiles[:2]}
    by_idx[0].preview.click()
    td.model.wait_idle()
    assert td.preview_right.value == png(0) and "fetched from S3" in td.preview_caption.value
    assert not wb.layout.image_path(A, 0).exists()  # previewing does not sync
    by_idx[1].preview.click()
    td.model.wait_idle()
    assert td.preview_right.value == png(1)


def test_batch_sync_and_cache(app, wb):
    names = [a.name for a in wb.registry]
    for k, n in enumerate(names):
        for i in range(3):
            put_remote(wb, n, i, png(k * 5 + i))
    batch = app.batch
    batch.actors.value = tuple(names)
    batch.pull_button.click()
    batch.worker.wait()
    assert all(b.value == b.max for b in batch.bars.children)
    assert batch.overall.value == batch.overall.max == 9
    assert "downloaded" in batch.summary.value
    cache = app.cache
    cache.refresh()
    write_local(wb, names[0], 7, png(70))
    cache.actor.value = names[0]
    cache.clear_button.click()
    cache.model.wait_idle()
    assert "Delete <b>3</b>" in cache.message.value
    assert len(wb.layout.local_images(names[0])) == 4  # nothing deleted before confirming
    cache.confirm_button.click()
    cache.model.wait_idle()
    assert sorted(wb.layout.local_images(names[0])) == [7]
    assert statuses(wb, names[0])[0] == "s3_only"


def test_app_shows_config_errors_instead_of_raising(tmp_path, monkeypatch):
    from actorbench.settings import Settings

    s = Settings.from_env(env={"ACTORBENCH_DATA_DIR": str(tmp_path)}, dotenv=False)
    (tmp_path / "actors.json").write_text("[{")
    page = App.from_settings(s)
    assert "malformed JSON" in page.value
    (tmp_path / "actors.json").write_text("[]")
    page = App.from_settings(s)
    assert "No AWS credentials found" in page.value


def test_app_follows_actors_json_changed_by_someone_else(wb, monkeypatch):
    """A push from the CLI or a teammate rewrites actors.json: the open page follows."""
    import json
    import time

    import actorbench.ui.app as app_mod
    from actorbench.fsutil import atomic_write_json

    monkeypatch.setattr(app_mod, "REGISTRY_POLL_S", 0.05)
    a = App(wb)
    try:
        assert "9999_newcomer_40_male" not in a.library.model.results
        raw = json.loads(wb.settings.registry_path.read_text())
        atomic_write_json(wb.settings.registry_path,
                          raw + [{"id": 9999, "name": "9999_newcomer_40_male"}])
        deadline = time.monotonic() + 5
        while "9999_newcomer_40_male" not in a.library.model.results:
            assert time.monotonic() < deadline, "the page never showed the new actor"
            time.sleep(0.05)
        wb.settings.registry_path.write_text("{ not json")  # half-edited by hand
        deadline = time.monotonic() + 5
        while "malformed" not in a.library.errors.value:
            assert time.monotonic() < deadline, "a broken actors.json was not reported"
            time.sleep(0.05)
    finally:
        a.close()
