"""The Training Data page's captions without a browser: edit the previewed image's caption,
preview a bulk edit (a person's caption left alone), apply, undo, sync to S3."""

from __future__ import annotations

from actorbench.actors import default_trigger
from actorbench.captions import Author, CaptionStore
from tests.helpers import click, png, put_remote, wait_until, write_local
from tests.single_backend import backend  # noqa: F401 - one backend here

A = "0001_european_30_female"


def test_edit_one_bulk_apply_drafts_undo_and_sync(app, wb):
    trigger = default_trigger(A)
    for i in range(3):
        put_remote(wb, A, i, png(i))
    wb.engine.pull([A])
    write_local(wb, A, 3, png(3))
    app.state.actor = A
    app.wait_idle()
    td = app.training_data
    cp = td.captions
    assert trigger in cp.title.value and "0 of 4 images captioned" in cp.title.value
    click(td, "preview", 1)
    app.wait_idle()
    wait_until(lambda: not cp.text.disabled)
    assert "#1" in cp.editing.value and "no caption yet" in cp.editing.value
    cp.text.value = f"{trigger}, smiling, <b>outdoors</b>"
    cp.save_button.click()
    app.wait_idle()
    folder = wb.layout.training_dir(A)
    assert (folder / f"{A}_1.txt").read_text() == f"{trigger}, smiling, <b>outdoors</b>"
    assert "<b>outdoors" not in cp.message.value and "&lt;b&gt;outdoors" in cp.message.value
    assert "1 by a person" in cp.title.value and "1 Local only" in cp.title.value
    listed = cp.listing.value
    assert listed.count("<tr>") == 5 and "ab-status-local_only" in listed  # 4 images + head
    assert "&lt;b&gt;outdoors" in listed and "<b>outdoors" not in listed
    # bulk: drafts for the picked images; #1 (a person's) is left alone
    for i in (0, 1, 3):
        click(td, "tick", i)
    cp.operation.value = "draft"
    cp.preview_button.click()
    assert "apply draft: 2 captions change, 1 left alone" in cp.changes.value
    assert cp.changes.value.count("ab-caption-change") == 2
    assert "written by a person" in cp.changes.value
    assert not (folder / f"{A}_0.txt").exists()  # a preview writes nothing
    cp.apply_button.click()
    app.wait_idle()
    assert (folder / f"{A}_0.txt").read_text() == f"{trigger}, photo"
    assert (folder / f"{A}_1.txt").read_text().endswith("<b>outdoors</b>")
    assert CaptionStore(wb.layout).read(A)[3].author is Author.DRAFT
    assert cp.apply_button.disabled and "Undo" in cp.message.value
    cp.undo_button.click()
    app.wait_idle()
    assert not (folder / f"{A}_0.txt").exists() and not (folder / f"{A}_3.txt").exists()
    assert "2 restored" in cp.message.value
    # the caption goes to S3 with a sync, beside its image
    wait_until(lambda: "Sync to S3 will upload 2 (1 caption)" in td.decision.value)
    td.push_button.click()
    app.wait_idle()
    assert "2 uploaded" in td.status_line.value and "(of 3 images and 1 caption)" in (  # picked
        td.status_line.value)
    body, _ = wb.store.open_get(wb.layout.caption_key(A, 1))
    try:
        assert body.read().decode().endswith("<b>outdoors</b>")
    finally:
        body.close()
    wait_until(lambda: "1 Local" in cp.title.value)


def test_saving_an_unfit_caption_says_why_and_writes_nothing(app, wb):
    put_remote(wb, A, 0, png(0))
    app.state.actor = A
    app.wait_idle()
    td = app.training_data
    click(td, "preview", 0)
    app.wait_idle()
    wait_until(lambda: not td.captions.text.disabled)
    td.captions.text.value = "x" * 1001
    td.captions.save_button.click()
    assert "too long" in td.errors.value
    assert not wb.layout.caption_path(A, 0).exists()
