"""Captions as data: provenance, drafts, bulk edits with undo, trigger words, guardrails."""

from __future__ import annotations

import json

import pytest

from actorbench.actors import default_trigger, trigger_problem
from actorbench.captions import (
    Author,
    CaptionStore,
    apply,
    carried,
    draft_caption,
    drafts_for,
    fixed_trait_phrases,
    preview_affix,
    preview_drafts,
    preview_replace,
    undo,
    with_trigger_first,
)
from actorbench.errors import ActorbenchError, RegistryError
from actorbench.training.validate import CaptionInput, check_captions, validate_dataset
from tests.helpers import png, put_remote, write_local
from tests.single_backend import backend  # noqa: F401 - one backend here

A = "0001_european_30_female"


def store_of(wb, who="alice@ws1"):
    return CaptionStore(wb.layout, who)


# -- trigger words ------------------------------------------------------------------------------
def test_default_trigger_is_a_stable_rare_token():
    t = default_trigger(A)
    assert t == default_trigger(A) and t != default_trigger("0002_african_45_male")
    assert t.startswith("zq") and len(t) == 6 and not set(t) & set("aeiouy")
    assert not trigger_problem(t) and not t.startswith("#")
    assert trigger_problem("#tag") and trigger_problem("a, b") and trigger_problem("x")
    assert trigger_problem(3) == "must be a string"


def test_trigger_word_in_the_registry(wb):
    actor = wb.registry.get(A)
    assert actor.trigger_word == default_trigger(A)
    wb.registry.set_trigger(A, "ohwx anna")
    raw = json.loads(wb.settings.registry_path.read_text())
    assert next(a for a in raw if a["name"] == A)["trigger_word"] == "ohwx anna"
    assert wb.reload_registry().get(A).trigger_word == "ohwx anna"
    with pytest.raises(RegistryError, match="without commas"):
        wb.registry.set_trigger(A, "anna, blonde")
    assert wb.registry.get(A).trigger_word == "ohwx anna"  # nothing written
    wb.registry.set_trigger(A, None)
    assert wb.reload_registry().get(A).trigger_word == default_trigger(A)
    raw = json.loads(wb.settings.registry_path.read_text())
    raw[0]["trigger_word"] = "#bad"
    wb.settings.registry_path.write_text(json.dumps(raw))
    with pytest.raises(RegistryError, match="trigger_word"):
        wb.reload_registry()


# -- store and provenance -----------------------------------------------------------------------
def test_captions_keep_who_wrote_them_and_drafts_never_replace_a_person(wb):
    store = store_of(wb)
    store.write(A, 0, "  zqx,   smiling ,  outdoors ")
    store.write(A, 1, "zqx, photo", Author.DRAFT)
    got = store.read(A)
    assert got[0].text == "zqx, smiling, outdoors" and got[0].author is Author.PERSON
    assert got[0].who == "alice@ws1" and got[0].at
    assert got[1].author is Author.DRAFT
    assert wb.layout.caption_path(A, 0).read_text() == "zqx, smiling, outdoors"  # text only
    with pytest.raises(ActorbenchError, match="written by a person"):
        store.write(A, 0, "zqx, photo", Author.DRAFT)
    assert store.read(A)[0].text == "zqx, smiling, outdoors"
    # a draft edited in a text editor (or pulled from a teammate) is a person's now
    wb.layout.caption_path(A, 1).write_text("zqx, laughing")
    assert store.read(A)[1].author is Author.PERSON and store.read(A)[1].who is None
    with pytest.raises(ActorbenchError, match="too long"):
        store.write(A, 2, "x" * 1001)
    assert not wb.layout.caption_path(A, 2).exists()
    wb.layout.caption_path(A, 3).write_bytes(b"\xff\xfe")
    assert "not UTF-8" in store.read(A)[3].problem


def test_drafts_put_the_trigger_first_and_leave_fixed_traits_out():
    words = ["three-quarter view", "blonde woman", "head and shoulders", "30 years old",
             "East Asian", "smiling", "three-quarter view", "a, b"]
    assert draft_caption("zqkv", words) == (
        "zqkv, three-quarter view, head and shoulders, smiling, a b")
    assert draft_caption("zqkv") == "zqkv, photo"
    problems: list[str] = []

    def describe(name: str) -> list[str]:
        if name.endswith("_1.png"):
            raise RuntimeError("no face found")
        return ["profile view", "close-up"]

    drafts = drafts_for({0: f"{A}_0.png", 1: f"{A}_1.png"}, "zqkv", describe, problems=problems)
    assert drafts == {0: "zqkv, profile view, close-up", 1: "zqkv, photo"}
    assert problems == [f"{A}_1.png: no description (RuntimeError: no face found)"]
    assert with_trigger_first("smiling, zqkv, outdoors", "zqkv") == "zqkv, smiling, outdoors"
    assert with_trigger_first("smiling", "zqkv") == "zqkv, smiling"
    assert with_trigger_first("", "zqkv") == "zqkv"
    assert fixed_trait_phrases("zqkv, Blonde woman, 35 years old, white background") == [
        "blonde woman", "35 years old"]


def test_bulk_edits_preview_every_change_apply_and_undo(wb):
    store = store_of(wb)
    store.write(A, 0, "zqx, my own words")  # a person's
    store.write(A, 1, "zqx, photo", Author.DRAFT)
    captions = store.read(A)
    drafts = {i: f"zqx, view {i}" for i in range(4)}
    p = preview_drafts(A, captions, drafts, [0, 1, 2, 3, 9])
    assert [(e.index, e.changes) for e in p.edits] == [
        (0, False), (1, True), (2, True), (3, True), (9, False)]
    assert "written by a person" in p.edits[0].skipped and p.edits[4].skipped == "no image"
    assert p.describe() == "apply draft: 3 captions change, 2 left alone"
    assert not wb.layout.caption_path(A, 2).exists()  # a preview writes nothing
    apply(store, p)
    after = store.read(A)
    assert after[0].text == "zqx, my own words" and after[2].text == "zqx, view 2"
    assert after[2].author is Author.DRAFT
    u = undo(store, A)
    assert u.restored == (1, 2, 3) and not u.kept
    back = store.read(A)
    assert set(back) == {0, 1} and back[1].text == "zqx, photo" and back[1].is_draft
    with pytest.raises(ActorbenchError, match="no bulk edit to undo"):
        undo(store, A)  # one step
    r = preview_replace(A, back, [0, 1], "photo", "portrait")
    assert [e.after for e in r.changing] == ["zqx, portrait"]
    apply(store, r)
    assert store.read(A)[1].author is Author.PERSON  # a person's edit now
    a = preview_affix(A, store.read(A), [0, 1, 5], suffix=", soft light")
    assert [e.after for e in a.changing] == ["zqx, my own words, soft light",
                                             "zqx, portrait, soft light"]
    assert a.edits[2].skipped == "no caption yet"
    apply(store, a)
    store.write(A, 0, "zqx, edited again")  # after the bulk edit: undo keeps it
    u = undo(store, A)
    assert u.restored == (1,) and u.kept == (0,)
    assert store.read(A)[0].text == "zqx, edited again"
    assert store.read(A)[1].text == "zqx, portrait"


# -- guardrails ---------------------------------------------------------------------------------
def findings_of(captions_text: dict[int, str], images: int, trigger: str = "zqkv"):
    from actorbench.captions import Caption

    caps = {i: Caption(i, t) for i, t in captions_text.items()}
    sent = carried(list(range(images)), caps, {}, trigger)
    return {f.code: f for f in check_captions(sent, caps, trigger)}, sent


def test_guardrails_name_each_problem_with_its_images():
    texts = {i: f"zqkv, blonde woman, pose {i}" for i in range(15)}
    texts.update({15: "zqkv, profile view", 16: "zqkv, close-up", 17: ""})
    for i in (3, 7, 11):
        texts[i] = f"blonde woman, pose {i}"  # trigger forgotten
    found, sent = findings_of(texts, 18)
    leak = found["identity_leak"]
    assert leak.indices == tuple(range(15)) and '"blonde woman"' in leak.message
    assert "15 of 17 captions" in leak.message
    assert found["trigger_missing"].indices == (3, 7, 11)
    assert "images 3, 7, 11" in found["trigger_missing"].message
    assert found["empty_caption"].indices == (17,) and "image 17" in found["empty_caption"].message
    assert sent[3].text == "zqkv, blonde woman, pose 3"  # the job puts the trigger first
    assert sent[17].text == "zqkv"


def test_guardrails_missing_and_duplicate_captions_and_a_clean_set():
    found, sent = findings_of({0: "zqkv, smiling", 1: "zqkv, Smiling"}, 4)
    assert found["captions_missing"].indices == (2, 3)
    assert "draft will be used" in found["captions_missing"].message
    assert sent[2].text == "zqkv, photo" and sent[2].source == "draft (no caption)"
    assert found["duplicate_caption"].indices == (0, 1)
    views = ["frontal view", "three-quarter view", "profile view", "close-up",
             "head and shoulders", "looking up", "laughing", "outdoors", "soft light", "dusk"]
    clean, _ = findings_of({i: f"zqkv, {v}" for i, v in enumerate(views)}, 10)
    assert clean == {}


def test_validation_carries_the_captions_the_job_will_send(wb):
    from actorbench.captions import Caption

    for i in range(12):
        put_remote(wb, A, i, png(i, 300))
    wb.engine.pull([A])
    write_local(wb, A, 12, png(12, 300))  # not in S3: not carried
    plan = wb.engine.plan([A])[A]
    caps = {0: Caption(0, "zqkv, smiling")}
    v = validate_dataset(plan, 256, CaptionInput(caps, "zqkv", {1: "zqkv, profile view"}))
    assert sorted(v.captions) == list(range(12))
    assert v.captions[0].text == "zqkv, smiling" and v.captions[0].source == "person"
    assert v.captions[1].text == "zqkv, profile view" and v.captions[1].source.startswith(
        "draft")
    assert {f.code for f in v.findings} >= {"captions_missing"}
    assert validate_dataset(plan, 256).captions == {}  # without captions: as before


def test_status_shows_each_images_caption(wb, nb):
    put_remote(wb, A, 0, png(0))
    write_local(wb, A, 1, png(1))
    wb.layout.caption_path(A, 1).write_text("zqkv, smiling")
    df = nb.status(A)
    assert list(df["caption"]) == ["none", "Local only"]


# -- the job carries them -----------------------------------------------------------------------
@pytest.fixture
def fake():
    from actorbench.demo import start_fake_runpod

    f = start_fake_runpod(speed=40.0)
    yield f
    f.stop()


def service_with_images(wb, fake, n=12):
    from actorbench.training import RunPodClient, TrainingService

    for i in range(n):
        put_remote(wb, A, i, png(i, 300))
    wb.engine.pull([A])
    client = RunPodClient(fake.base_url, fake.endpoint_id, fake.api_key, sleep=lambda s: None)
    return TrainingService(wb, client, describe=lambda name: (
        ["profile view", "blonde"] if name.endswith("_2.png") else []))


def test_the_job_carries_each_images_caption_trigger_first(wb, fake):
    from actorbench.training import TrainingParams

    svc = service_with_images(wb, fake)
    trigger = default_trigger(A)
    store = store_of(wb)
    store.write(A, 0, "smiling, outdoors")  # the trigger forgotten: the job puts it first
    store.write(A, 1, f"{trigger}, frontal view, soft light")
    prep = svc.prepare(A, TrainingParams.from_preset("sd15", resolution=256))
    assert prep.params.trigger_word == trigger  # the actor's, from the registry
    assert prep.validation.captions[2].text == f"{trigger}, profile view"  # the draft
    assert "trigger_missing" in {f.code for f in prep.validation.findings}
    v = svc.launch(prep)
    job = fake.jobs[v.job_id].input
    assert job["contract"] == "actorbench.lora/2" and job["trigger_word"] == trigger
    by_name = {im["name"]: im["caption"] for im in job["images"]}
    assert by_name[f"{A}_0.png"] == f"{trigger}, smiling, outdoors"
    assert by_name[f"{A}_1.png"] == f"{trigger}, frontal view, soft light"
    assert by_name[f"{A}_2.png"] == f"{trigger}, profile view"
    assert by_name[f"{A}_5.png"] == f"{trigger}, photo"
    assert all(len(c) <= 1000 and c.startswith(trigger) for c in by_name.values())
    recorded = {im["key"].rsplit("/", 1)[1]: im["caption"]
                for im in svc.versions.load(1)[0].images}
    assert recorded == by_name  # the version says what it trained with


def test_without_captions_the_job_stays_lora_1(wb, fake):
    from actorbench.training import RunPodClient, TrainingParams, TrainingService

    for i in range(12):
        put_remote(wb, A, i, png(i, 300))
    wb.engine.pull([A])
    svc = TrainingService(wb, RunPodClient(fake.base_url, fake.endpoint_id, fake.api_key,
                                           sleep=lambda s: None))
    prep = svc.prepare(A, TrainingParams.from_preset("sd15", resolution=256,
                                                     trigger_word="ohwx anna"))
    assert prep.params.trigger_word == "ohwx anna"  # set by the caller: kept
    assert prep.validation.captions[0].source == "draft (no caption)"
    v = svc.launch(prep)
    job = fake.jobs[v.job_id].input
    assert job["contract"] == "actorbench.lora/1"
    assert all("caption" not in im for im in job["images"])
    import jsonschema

    from worker.contract import INPUT

    jsonschema.validate(job, INPUT)  # what an older worker accepts


def test_notebook_captions_dataframe(wb, nb):
    import pandas as pd

    put_remote(wb, A, 0, png(0))
    write_local(wb, A, 1, png(1))
    store_of(wb).write(A, 1, "zqkv, smiling")
    df = nb.captions("1")
    assert list(df.index) == [0, 1] and df.attrs["trigger_word"] == default_trigger(A)
    assert df.loc[1, "caption"] == "zqkv, smiling" and df.loc[1, "by"] == "person"
    assert df.loc[1, "caption status"] == "local_only" and df.loc[0, "caption status"] == "none"
    assert pd.isna(df.loc[0, "caption"]) and df.loc[0, "draft"] == f"{default_trigger(A)}, photo"


def test_a_new_image_never_takes_the_index_of_a_caption_left_without_its_image(wb):
    from actorbench.generate.service import next_free_index

    write_local(wb, A, 0, png(0))
    wb.layout.caption_path(A, 4).write_text("zqkv, for an image deleted long ago")
    put_caption_key = wb.layout.caption_key(A, 6)
    wb.store.put_bytes(put_caption_key, b"zqkv, another", "text/plain; charset=utf-8")
    assert next_free_index(wb, A) == 7


def test_a_caption_name_held_by_a_symlink_is_never_followed(wb, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("api key")
    write_local(wb, A, 0, png(0))
    wb.layout.caption_path(A, 0).symlink_to(secret)
    plan = wb.engine.plan([A])[A]
    assert [(c.status.value, c.problem) for c in plan.captions] == [
        ("invalid", "symlink, not followed")]
    p = wb.engine.push([A])[A]
    assert wb.store.head(wb.layout.caption_key(A, 0)) is None and p.transferred == 1
    assert "symlink" in store_of(wb).read(A)[0].problem
    with pytest.raises(ActorbenchError, match="not a regular file"):
        store_of(wb).write(A, 0, "zqkv, smiling")
    assert secret.read_text() == "api key"


def test_a_caption_too_long_once_the_trigger_is_first_is_cut_at_a_tag_and_named():
    long = ", ".join(f"tag{i:03d}" for i in range(125))  # 998 characters, no trigger
    assert len(long) <= 1000
    found, sent = findings_of({0: long}, 1)
    assert len(sent[0].text) <= 1000 and sent[0].text.startswith("zqkv, tag000, ")
    assert sent[0].text.endswith(", tag123") and sent[0].written
    assert found["caption_shortened"].indices == (0,)
