"""The Library's gallery without a browser: cards in words, paging, what a card's buttons do,
links (``?actor=0002``), the remembered actor, and empty states."""

from __future__ import annotations

import json
import re
import threading
import time
from urllib.parse import quote

import pytest

from actorbench.actors import Actor
from actorbench.fsutil import atomic_write_json
from actorbench.present.html import esc
from actorbench.sync.plan import ActorPlan, Change, ImageStatus
from actorbench.ui import App, visit
from actorbench.ui.pages.library.model import PAGE_SIZE
from actorbench.ui.widgets.actor_card import (
    Tally,
    actor_header,
    actor_label,
    card_html,
    counts_words,
    empty_state,
    tally,
    validated_words,
)
from tests.helpers import png, put_remote, write_local
from tests.hostile import MARK, PAYLOAD, assert_inert
from tests.single_backend import backend  # noqa: F401 - one backend here

A = "0001_european_30_female"
#: what must never reach a page where words are wanted
CODES = re.compile(r"not_synced|no_data|s3_only|local_only|local_modified|remote_modified|"
                   r"\b\d+\.0\b")


def shown(app) -> list[str]:  # type: ignore[no-untyped-def]
    return re.findall(r'<div class="ab-gcard[^"]*" data-ab-action="select" data-actor="([^"]*)"',
                      app.library.gallery.cards.value)


def visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


# -- cards in words ---------------------------------------------------------------------------
def test_a_card_says_the_actor_in_words():
    actor = Actor(2, "0002_east_asian_35_female", training_data={"count": 20, "synced": False},
                  validated_lora_model={"version_name": "v3"})
    assert actor_label(actor) == "0002 · East Asian · 35 · female"
    t = tally(actor, here=12)
    assert (t.in_s3, t.here, t.status) == (20, 12, "not_synced")
    assert counts_words(t) == "20 in S3 · 12 here"
    assert validated_words(actor) == "✓ validated v3"
    html = card_html(actor, t, None)
    text = visible_text(html)
    for words in ("0002", "East Asian · 35 · female", "20 in S3 · 12 here", "Not synced yet",
                  "✓ validated v3", "Training data", "Train"):
        assert words in text, words
    assert not CODES.search(text)
    assert "ab-gthumb-pending" in html  # a thumbnail still being made


def test_counts_plurals_and_empty_states():
    assert counts_words(Tally(1, 0, conflicts=1)) == "1 in S3 · none here · 1 conflict"
    assert counts_words(Tally(3, 3, conflicts=2)) == "3 in S3 · 3 here · 2 conflicts"
    none = Tally(0, 0)
    assert counts_words(none) == "No images yet" and none.status == "no_data"
    bare = Actor(7, "0007_african_40_male")
    html = card_html(bare, tally(bare, 0), "")
    assert "No images yet" in visible_text(html) and "No base image" in visible_text(html)
    assert 'data-ab-action="train" data-actor="0007_african_40_male" disabled="disabled"' in html
    assert visible_text(empty_state("No images yet", "add files to", "/d/x")).split() == \
        ["No", "images", "yet", ":", "add", "files", "to", "/d/x"]


def test_counts_follow_the_last_listing():
    actor = Actor(1, A, training_data={"count": 5, "synced": True})
    seen = object()  # a file or an object: only whether there is one counts here

    def change(i: int, status: ImageStatus, local: bool = True) -> Change:
        return Change(A, i, status, f"k{i}", local=seen if local else None,  # type: ignore[arg-type]
                      remote=seen)  # type: ignore[arg-type]

    changes = [change(0, ImageStatus.SYNCED), change(1, ImageStatus.CONFLICT),
               change(2, ImageStatus.S3_ONLY, local=False)]
    t = tally(actor, here=0, plan=ActorPlan(A, changes))
    assert (t.in_s3, t.here, t.conflicts, t.listed, t.status) == (3, 2, 1, True, "not_synced")
    assert counts_words(t) == "3 in S3 · 2 here · 1 conflict"


def test_a_hostile_record_is_shown_as_text_on_its_card():
    odd = Actor(PAYLOAD, PAYLOAD, training_data={"count": 1},
                validated_lora_model={"version_name": PAYLOAD, "lora_url": PAYLOAD})
    for markup in (card_html(odd, tally(odd, 0), "", selected=True, thumb_note=PAYLOAD),
                   actor_header(odd), empty_state(PAYLOAD, PAYLOAD, PAYLOAD)):
        assert_inert(markup)
        assert esc(MARK) in markup


def test_a_name_without_facets_is_shown_as_it_is():
    actor = Actor("x-1", "studio-extra")
    assert actor_label(actor) == "studio-extra"
    assert "studio-extra" in visible_text(card_html(actor, tally(actor, 0), ""))


# -- the gallery in the app -------------------------------------------------------------------
def add_actors(wb, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    raw = json.loads(wb.settings.registry_path.read_text())
    names = [f"{100 + i:04d}_latino_{20 + i}_{'male' if i % 2 else 'female'}" for i in range(n)]
    atomic_write_json(wb.settings.registry_path,
                      raw + [{"id": 100 + i, "name": nm} for i, nm in enumerate(names)])
    return names


def test_the_gallery_pages_and_a_filter_goes_back_to_the_first_page(app, wb):
    add_actors(wb, 30)
    app.reload()
    lib, gallery = app.library, app.library.gallery
    assert len(shown(app)) == PAGE_SIZE and "1–24 of 33" in gallery.page_label.value
    assert gallery.prev_button.disabled and not gallery.next_button.disabled
    gallery.next_button.click()
    assert len(shown(app)) == 33 - PAGE_SIZE and "25–33 of 33" in gallery.page_label.value
    assert gallery.next_button.disabled
    lib.gender.value = "female"
    assert lib.model.page == 0 and all(n.endswith("_female") for n in shown(app))
    lib.search.value = "nobody-has-this"
    assert shown(app) == [] and "No actor matches these filters" in gallery.cards.value
    assert not lib.clear_button.disabled
    lib.clear_button.click()
    assert len(lib.model.results) == 33 and lib.clear_button.disabled
    assert not CODES.search(visible_text(gallery.cards.value))
    assert "<b>33</b> actors" in lib.count.value


def test_a_cards_buttons_choose_the_actor_and_open_its_page(app):
    pick = app.library.gallery.pick
    pick.value = "training_data 0002_african_45_male 1"
    assert app.state.actor == "0002_african_45_male"
    assert app.tabs.titles[app.tabs.selected_index] == "Training Data"
    selected = 'ab-gcard ab-gcard-selected" data-ab-action="select" data-actor="0002_african'
    # the Library left behind draws nothing meanwhile (the page opened has the connection)
    assert selected not in app.library.gallery.cards.value
    app.tabs.selected_index = 0  # shown again: it catches up with the choice
    assert selected in app.library.gallery.cards.value
    assert "0002_african_45_male" in app.library.card.value
    pick.value = "select 0003_east_asian_22_female 2"
    assert app.state.actor == "0003_east_asian_22_female" and app.tabs.selected_index == 0
    pick.value = "explode 0003_east_asian_22_female 3"  # not a button a card has
    assert "A card has no" in app.library.errors.value and "explode" in app.library.errors.value
    assert "Error:" not in app.library.errors.value  # said to a person, not a traceback
    pick.value = "select nobody 4"
    assert "Unknown actor" in app.library.errors.value
    assert app.state.actor == "0003_east_asian_22_female"
    app.wait_idle()
    assert "0003 · East Asian · 22 · female" in app.title.value  # the header of every page


def test_an_actor_without_images_says_what_to_do_and_sync_waits(app, wb):
    app.state.actor = A
    app.wait_idle()
    lib = app.library
    assert "No images yet" in lib.card.value and "training_data" in lib.card.value  # the folder
    assert lib.sync_button.disabled and lib.train_button.disabled
    assert not lib.open_button.disabled
    for i in range(3):
        put_remote(wb, A, i, png(i))
    write_local(wb, A, 7, png(7))
    app.state.changed()  # (a listing would find them: a page refreshes)
    app.wait_idle()
    assert "3 in S3 · 1 here" in lib.card.value
    assert not lib.sync_button.disabled and not lib.train_button.disabled
    lib.sync_button.click()
    lib.worker.wait()
    app.wait_idle()
    assert "Synced: 3 downloaded, 1 uploaded." in lib.note.value
    assert "4 in S3 · 4 here" in lib.card.value
    assert "4 in S3 · 4 here" in app.library.gallery.cards.value  # its card counts the listing


# -- links and the remembered actor -----------------------------------------------------------
def test_a_link_opens_an_actor_by_id_or_name_and_a_page(app):
    app.apply_query("token=secret&actor=2")
    assert app.state.actor == "0002_african_45_male"
    app.apply_query("actor=0003_east_asian_22_female&page=training-data")
    assert app.state.actor == "0003_east_asian_22_female"
    assert app.tabs.titles[app.tabs.selected_index] == "Training Data"
    app.apply_query("actor=nobody")
    assert "nobody" in app.library.errors.value
    assert app.state.actor == "0003_east_asian_22_female"


def test_the_last_actor_is_remembered_for_the_next_visit(wb):
    first = App(wb)
    try:
        first.state.actor = "0002_african_45_male"
        path = first.state.ui_state_path
        deadline = time.monotonic() + 5
        while not path.exists() or "0002" not in path.read_text():
            assert time.monotonic() < deadline, "the choice was never written"
            time.sleep(0.02)
    finally:
        first.close()
    second = App(wb)
    try:
        assert second.state.actor == "0002_african_45_male"
        assert "0002 · African · 45 · male" in second.title.value
        second.apply_query("")  # a visit without ?actor: the one chosen last
        assert second.state.actor == "0002_african_45_male"
    finally:
        second.close()
    path.write_text("{ half-written")
    third = App(wb)
    try:
        assert third.state.actor == ""  # a broken file is no reason not to start
    finally:
        third.close()


def test_a_visit_query_comes_from_the_environment_or_the_preheat_socket(monkeypatch):
    from websockets.sync.server import serve

    got: list[str] = []
    for name in ("VOILA_PREHEAT", "QUERY_STRING"):
        monkeypatch.delenv(name, raising=False)
    assert visit.on_visit(got.append) is False  # not under Voila
    monkeypatch.setenv("QUERY_STRING", "actor=7")
    assert visit.on_visit(got.append) and got == ["actor=7"]

    offered: list[object] = []

    def handler(ws):  # type: ignore[no-untyped-def]
        offered.append(ws.request.headers.get("Sec-WebSocket-Protocol"))
        ws.send(json.dumps({"QUERY_STRING": "actor=0002&token=t", "SERVER_PORT": "1"}))

    with serve(handler, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        monkeypatch.setenv("VOILA_PREHEAT", "True")
        monkeypatch.setenv("VOILA_APP_PORT", str(server.socket.getsockname()[1]))
        monkeypatch.setenv("VOILA_KERNEL_ID", "k1")
        done = threading.Event()
        assert visit.on_visit(lambda q: (got.append(q), done.set()))
        assert done.wait(10)
        server.shutdown()
    assert got[-1] == "actor=0002&token=t" and visit.query_params(got[-1]) == {"actor": "0002"}
    assert offered == ["v1.kernel.websocket.jupyter.org"]  # what actorbench's Voila requires


@pytest.mark.attack("markup in a deep link (?actor=, &page=) and in a forged card click",
                    "shown as text in the error box; nothing chosen, no page opened")
def test_markup_in_a_link_or_a_card_click_is_shown_as_text(app):
    bad = '<img src=x onerror="alert(1)">'
    app.apply_query(f"actor={quote(bad)}&page={quote(bad)}")
    for pick in (f"select {bad} 7", f"{bad} 0002_african_45_male 8"):
        app.library.gallery.pick.value = pick
        assert "<img" not in app.library.errors.value
        assert "&lt;img" in app.library.errors.value
    assert app.state.actor in ("", None)


def test_a_render_that_waited_draws_the_results_as_they_are_when_it_draws(app):
    """Two threads draw the gallery at a visit: the UI's (the remembered actor) and the
    actors.json watcher's (the file re-read). The one that waited for the other must not
    draw the results it saw when it began waiting: the page kept a stale count (seen in the
    browser suite: a page left at 287 actors when actors.json had 288)."""
    g = app.library.gallery
    fewer = list(app.library.model.results[:-1])
    with g._lock:
        waiting = threading.Thread(target=g.render)
        waiting.start()  # blocked on the lock another render holds
        time.sleep(0.2)
        # meanwhile the results change (their own render queues behind this one's)
        app.library.model._trait_values["results"] = fewer
    waiting.join(10)
    assert f"<b>{len(fewer)}</b> actors" in g.count.value


def test_a_search_of_the_old_registry_never_lands_after_one_of_the_new(app, wb):
    """The watcher re-reads actors.json and searches again while the UI's search of the old
    registry is still running: the newer search's results stay."""
    model = app.library.model
    old = wb.registry
    started, go_on = threading.Event(), threading.Event()
    real_search = type(old).search

    def slow_search(self, query):  # type: ignore[no-untyped-def]
        if self is old:
            started.set()
            assert go_on.wait(10)
        return real_search(self, query)

    import actorbench.actors.registry as reg_mod

    raw = json.loads(wb.settings.registry_path.read_text())
    try:
        reg_mod.Registry.search = slow_search  # type: ignore[method-assign]
        ui = threading.Thread(target=model.refresh)
        ui.start()
        assert started.wait(10)
        atomic_write_json(wb.settings.registry_path,
                          raw + [{"id": 9999, "name": "9999_newcomer_40_male"}])
        wb.reload_registry()
        watcher = threading.Thread(target=model.refresh)
        watcher.start()
        time.sleep(0.2)
        go_on.set()
        ui.join(10)
        watcher.join(10)
    finally:
        reg_mod.Registry.search = real_search  # type: ignore[method-assign]
    assert "9999_newcomer_40_male" in model.results


def test_the_gallery_card_gets_the_listing_counts_when_another_page_listed_first(app, wb):
    """The Training Data page's listing of the chosen actor can land after the gallery was
    drawn and before the Library's card asks for its own: the gallery card must still be
    drawn again with the listing's counts (it kept "none in S3" for good)."""
    name = app.library.model.results[0]
    for i in range(3):
        put_remote(wb, name, i, png(i))
    lib, real = app.library, app.library._render_card
    landed = []

    def card_then_listing(*args):  # type: ignore[no-untyped-def]
        real(*args)
        if not landed:  # the other page's listing lands now
            landed.append(app.state.plan(name))

    lib._render_card = card_then_listing  # type: ignore[method-assign]
    app.state.actor = name
    app.wait_idle()
    lib.model.wait_idle()
    assert landed
    cards = re.split(r'<div class="ab-gcard(?=[" ])', lib.gallery.cards.value)
    card = next(c for c in cards if f'data-actor="{name}"' in c)
    assert "3 in S3" in card, card
