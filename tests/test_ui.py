"""Drive the dashboard through its widgets and models, without a browser."""

from __future__ import annotations

import re
import threading

from actorbench.sync import ImageStatus
from actorbench.ui import App
from tests.helpers import (
    click,
    partial_files,
    png,
    put_remote,
    statuses,
    ticked,
    write_local,
)
from tests.single_backend import backend  # noqa: F401 - one backend here

A = "0001_european_30_female"



def badges(view):
    out = {}
    for tile in view.images.shown:
        for s in ImageStatus:
            if f"ab-status-{s.value}" in tile.value:
                out[tile.change.index] = s.value
    return out


def cards(lib):
    """The actors on the gallery's page, in order."""
    return re.findall(r'<div class="ab-gcard[^"]*" data-ab-action="select" data-actor="([^"]*)"',
                      lib.gallery.cards.value)


def test_library_filters_and_selection(app):
    lib = app.library
    assert "3" in lib.count.value
    lib.search.value = "african"
    assert cards(lib) == ["0002_african_45_male"]
    lib.search.value = ""
    lib.gender.value = "female"
    assert len(cards(lib)) == 2
    lib.gallery.pick.value = "select 0003_east_asian_22_female 1"  # what a card's click sends
    assert app.state.actor == "0003_east_asian_22_female"
    assert "0003_east_asian_22_female" in lib.card.value  # at once; the counts follow
    lib.model.wait_idle()
    assert "Status …" not in lib.card.value and "No images yet" in lib.card.value  # listed
    lib.model.reset()
    assert len(cards(lib)) == 3
    assert app.state.actor == "0003_east_asian_22_female"  # the choice survives the filters


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
    click(td, "tick", 1)
    click(td, "tick", 4)
    assert td.model.selected == [1, 4] and ticked(td) == [1, 4]
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
    click(td, "preview", 0)
    td.model.wait_idle()
    assert td.preview_right.value == png(0) and "fetched from S3" in td.preview_caption.value
    assert not wb.layout.image_path(A, 0).exists()  # previewing does not sync
    click(td, "preview", 1)
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



def test_app_follows_a_change_made_while_it_was_being_built(wb, monkeypatch):
    """A preheated kernel reads actors.json, then takes seconds to build the page: a change
    made in between (a teammate's actor, a test putting the demo back) must still show. The
    watcher used to take the file's signature when it started, after the read, and so missed
    it for the kernel's life (seen in CI: a page showing 289 actors, the file saying 287)."""
    import json
    import time

    import actorbench.ui.app as app_mod
    from actorbench.fsutil import atomic_write_json

    monkeypatch.setattr(app_mod, "REGISTRY_POLL_S", 0.05)
    raw = json.loads(wb.settings.registry_path.read_text())
    read = wb.reload_registry()  # what the page is built from
    atomic_write_json(wb.settings.registry_path,  # meanwhile: same size, same second
                      [dict(raw[0], name=raw[0]["name"][::-1])] + raw[1:])
    assert read.signature != app_mod.file_signature(wb.settings.registry_path)
    a = App(wb)
    try:
        deadline = time.monotonic() + 5
        while raw[0]["name"][::-1] not in a.library.model.results:
            assert time.monotonic() < deadline, "the page kept the library read before"
            time.sleep(0.05)
    finally:
        a.close()


B = "0002_african_45_male"


def test_switching_actor_clears_what_the_page_said_about_the_last_one(app, wb):
    for i in range(4):
        put_remote(wb, A, i, png(i))
    put_remote(wb, B, 0, png(20))
    app.state.actor = A
    app.wait_idle()
    td = app.training_data
    td.pull_button.click()
    td.worker.wait()
    click(td, "preview", 0)
    td.model.wait_idle()
    td.images.range_box.value = "0-1"
    assert "4 downloaded" in td.status_line.value and "4 / 4 files" in td.progress_label.value
    assert td.preview.layout.display == "flex" and "#0" in td.preview_caption.value
    assert td.model.selected == [0, 1] and "picked" in td.images.range_message.value
    app.state.actor = B
    said = [td.status_line.value, td.result.value, td.progress_label.value,
            td.preview_caption.value, td.images.range_message.value, td.images.range_box.value,
            td.generate.message.value, td.errors.value]
    assert said == [""] * len(said) and td.preview.layout.display == "none"
    assert td.preview_right.value == b"" and td.files_bar.value == td.bytes_bar.value == 0
    assert td.model.selected == [] and A not in td.header.value
    app.wait_idle()
    assert B in td.header.value and A not in td.decision.value
    assert "Sync from S3 will download 1" in td.decision.value


def test_refresh_forgets_the_last_sync_line(app, wb):
    put_remote(wb, A, 0, png(0))
    app.state.actor = A
    app.wait_idle()
    td = app.training_data
    td.pull_button.click()
    td.worker.wait()
    assert "1 downloaded" in td.status_line.value
    write_local(wb, A, 0, png(5, 70))  # modified locally: "1 downloaded" is no longer news
    td.refresh_button.click()
    td.model.wait_idle()
    assert td.status_line.value == "" and td.progress_label.value == ""
    assert "ab-status-local_modified" in td.tiles[0].value
    assert "Sync to S3 will upload 1" in td.decision.value


def test_the_decision_says_what_a_sync_of_the_picks_would_do(app, wb):
    for i in range(4):
        put_remote(wb, A, i, png(i))
    write_local(wb, A, 9, png(9))
    app.state.actor = A
    app.wait_idle()
    td = app.training_data
    assert td.decision.value.count("Sync from S3 will download 4") == 1
    assert "Sync to S3 will upload 1" in td.decision.value and "all 5 images" in td.decision.value
    grid = td.images
    grid.range_box.value = "0-1, 9"
    assert td.model.selected == [0, 1, 9] and grid.range_box.value == "0-1,9"
    assert "download 2" in td.decision.value and "the 3 picked images" in td.decision.value
    assert ticked(td) == [0, 1, 9]
    grid.range_box.value = "3-1"
    assert "is not a list of images" in grid.range_message.value and td.model.selected == [0, 1, 9]
    grid.invert.click()
    assert td.model.selected == [2, 3] and grid.range_box.value == "2-3"
    assert td.push_button.disabled and "Nothing to upload" in td.push_button.tooltip
    assert "Sync to S3: nothing to do" in td.decision.value
    grid.select_all.click()
    assert td.model.selected == [0, 1, 2, 3, 9]
    assert ticked(td) == [0, 1, 2, 3, 9]
    click(td, "untick", 0)  # a tick box: the range follows
    assert grid.range_box.value == "1-3,9" and ticked(td) == [1, 2, 3, 9]
    grid.select_none.click()
    assert td.model.selected == [] and grid.range_box.value == ""
    td.pull_button.click()  # none picked: every image
    td.worker.wait()
    assert "4 downloaded" in td.status_line.value


def test_an_actor_without_images_says_what_to_do_and_disables_what_cannot_work(app, wb):
    app.state.actor = B
    app.wait_idle()
    td = app.training_data
    assert "No training images yet" in td.header.value and "add a base image" in \
        td.header.value and "press ↻ Refresh" in td.header.value
    assert "no images here or in S3" in td.decision.value
    assert td.pull_button.disabled and td.push_button.disabled
    assert "Nothing to download" in td.pull_button.tooltip
    assert td.images.select_all.disabled and td.images.range_box.disabled
    assert td.generate.button.disabled and "needs a base image" in td.generate.hint.value
    wb.layout.base_image_path(B).parent.mkdir(parents=True, exist_ok=True)
    wb.layout.base_image_path(B).write_bytes(png(1, 256))
    td.refresh_button.click()
    td.model.wait_idle()
    assert not td.generate.button.disabled and td.generate.hint.value == ""
    assert "Generate Images below" in td.header.value


def test_batch_picks_survive_a_filter_change(app, wb):
    batch = app.batch
    batch.actors.value = ("0001_european_30_female", B)
    batch.filter.value = "female"
    assert batch.actors.options == ("0001_european_30_female", "0003_east_asian_22_female")
    assert batch.actors.value == ("0001_european_30_female",)
    assert batch.model.selected == ("0001_european_30_female", B)
    assert "2 actors picked: 0001, 0002 (1 hidden by the filters)" in batch.picks.value
    batch.filter.value, batch.gender.value = "", "male"
    assert batch.actors.options == (B,) and batch.actors.value == (B,)
    batch.gender.value = "Any"
    assert batch.actors.value == ("0001_european_30_female", B)
    batch.clear_picks.click()
    assert batch.model.selected == () and "No actor picked" in batch.picks.value
