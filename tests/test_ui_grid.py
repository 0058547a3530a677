"""The Training Data page's grid without a browser: local images first, badged "Checking S3"
until the listing returns; tick boxes and Preview buttons as the page's script sends them."""

from __future__ import annotations

import threading

from actorbench.errors import ActorbenchError
from actorbench.ui.pages.training_data.tiles import tile_html
from tests.helpers import click, png, put_remote, ticked, wait_until, write_local
from tests.single_backend import backend  # noqa: F401 - one backend here

A = "0001_european_30_female"
B = "0002_african_45_male"




def statuses_shown(td) -> dict[int, str]:
    return {t.index: t.value.split("ab-status-", 1)[1].split('"', 1)[0] for t in td.images.shown}


def test_local_images_show_while_s3_is_listed_and_are_picked_once_it_is(app, wb, monkeypatch):
    for i in range(3):
        write_local(wb, A, i, png(i))
    put_remote(wb, A, 5, png(5))
    listed, real = threading.Event(), app.state.plan

    def slow_plan(name: str, fresh: bool = False):
        assert listed.wait(30)
        return real(name, fresh)

    monkeypatch.setattr(app.state, "plan", slow_plan)
    app.state.actor = A
    td = app.training_data
    wait_until(lambda: len(td.images.shown) == 3
               and all("<img" in t.value for t in td.images.shown))
    assert statuses_shown(td) == {0: "checking", 1: "checking", 2: "checking"}
    assert all(t.value.count('disabled="disabled"') == 2 for t in td.images.shown)
    assert "Reading" in td.header.value and td.pull_button.disabled
    click(td, "tick", 1)  # a click that got through anyway: refused, the box drawn again
    assert td.model.selected == [] and ticked(td) == []
    listed.set()
    app.wait_idle()
    assert statuses_shown(td) == {0: "local_only", 1: "local_only", 2: "local_only",
                                  5: "s3_only"}
    assert "☁️ in S3" in td.images.shown[3].value
    click(td, "tick", 1)
    click(td, "tick", 5)
    assert td.model.selected == [1, 5] and ticked(td) == [1, 5]
    assert td.images.range_box.value == "1,5" and "the 2 picked images" in td.decision.value
    click(td, "untick", 1)
    assert td.model.selected == [5] and ticked(td) == [5]


def a_shown_b_local(app, wb):  # type: ignore[no-untyped-def]
    """Three local images each for A and B; A's grid drawn. Returns the Training Data page."""
    for i in range(3):
        write_local(wb, A, i, png(i))
        write_local(wb, B, i, png(10 + i))
    app.state.actor = A
    app.wait_idle()
    return app.training_data


def test_switching_actor_hides_the_tiles_and_reuses_them(app, wb, monkeypatch):
    """The next actor's tiles are new values in the same tile widgets (their views stay in
    the page: making and removing 20 views cost the browser more than the pictures); the
    last actor's tiles are hidden from the moment the actor changes until they are redrawn."""
    td = a_shown_b_local(app, wb)
    views = list(td.images.box.children)
    assert len(views) == 3 and td.images.box.layout.display == "flex"
    before = {t.index: t.value for t in td.images.shown}
    listed, real = threading.Event(), app.state.plan

    def slow_plan(name: str, fresh: bool = False):
        assert listed.wait(30)
        return real(name, fresh)

    monkeypatch.setattr(app.state, "plan", slow_plan)
    seen_hidden = []
    td.images.box.layout.observe(lambda c: seen_hidden.append(c["new"]), "display")
    app.state.actor = B
    assert seen_hidden[0] == "none"  # at once, on the UI thread: A's pictures are not shown
    listed.set()
    app.wait_idle()
    assert list(td.images.box.children) == views and td.images.box.layout.display == "flex"
    assert all(t.value != before[t.index] for t in td.images.shown)  # B's pictures


def test_a_drawing_overtaken_by_an_actor_switch_does_not_show_its_grid(app, wb, monkeypatch):
    """A background drawing of actor A, still running when B is chosen, must not show A's
    tiles again under B's header (nor make B's render skip B's local images)."""
    import actorbench.ui.pages.training_data.image_grid as grid_mod

    td = a_shown_b_local(app, wb)
    real = grid_mod.read_cached_thumbnail
    switched = threading.Event()

    def switch_midway(path, thumbs, px):  # type: ignore[no-untyped-def]
        if A in str(path) and not switched.is_set():
            switched.set()
            td.images.clear()  # what choosing B does first, on the UI thread
        return real(path, thumbs, px)

    monkeypatch.setattr(grid_mod, "read_cached_thumbnail", switch_midway)
    td._redraw_pictures()  # A's tiles drawn again (as after a pixel-ratio change)
    assert switched.is_set()
    assert td.images.box.layout.display == "none" and td.images.shown == []


def test_a_failed_listing_leaves_no_tile_saying_it_is_being_checked(app, wb, monkeypatch):
    write_local(wb, A, 0, png(0))

    def failing_plan(name: str, fresh: bool = False):
        raise ActorbenchError("S3 is not reachable.")

    monkeypatch.setattr(app.state, "plan", failing_plan)
    app.state.actor = A
    app.wait_idle()
    td = app.training_data
    assert td.images.shown == [] and "S3 is not reachable" in td.errors.value


def test_clicks_are_checked_and_a_click_for_another_grid_changes_nothing(app, wb):
    for i in range(2):
        write_local(wb, A, i, png(i))
    app.state.actor = A
    app.wait_idle()
    td = app.training_data
    click(td, "explode", 0)
    assert "A tile has no" in td.errors.value and "explode" in td.errors.value
    td.errors.clear()
    for target in ("7", "<b>0</b>", "-1"):
        click(td, "tick", target)
    td.images.pick.value = "tick"  # half a message, as if typed
    assert td.model.selected == [] and td.errors.value == ""
    click(td, "preview", 1)
    td.model.wait_idle()
    assert td.preview_right.value == png(1) and "#1" in td.preview_caption.value


def test_a_tile_says_what_it_knows_and_escapes_what_it_is_told():
    making = tile_html(3, None, making=True)
    assert "ab-thumb-making" in making and "ab-status-checking" in making
    bad = tile_html(4, None, note='x.png: not a readable image <b onclick="x">')
    assert "⚠️ unreadable" in bad and "<b onclick" not in bad
    assert 'data-ab-action="tick" data-ab-target="4"' in bad and "</input>" not in bad


def thumb_sides(td) -> set[tuple[int, int]]:
    """The sizes of the thumbnails the tiles carry (decoded from their data URIs)."""
    import base64
    import io

    from PIL import Image

    sides = set()
    for t in td.images.shown:
        data = t.value.split('src="data:image/jpeg;base64,', 1)[1].split('"', 1)[0]
        sides.add(Image.open(io.BytesIO(base64.b64decode(data))).size)
    return sides


def test_thumbnails_are_sized_for_the_screen_the_page_says_it_has(app, wb):
    for i in range(2):
        write_local(wb, A, i, png(i, 600))
    td = app.training_data
    assert app.state.pixel_ratio == 0  # until the page says, tiles are sharp on a 2x screen
    app.state.actor = A
    app.wait_idle()
    wait_until(lambda: len(td.images.shown) == 2)
    assert thumb_sides(td) == {(280, 280)}
    listings: list[str] = []
    real_plan = app.state.plan
    app.state.plan = lambda name, fresh=False: listings.append(name) or real_plan(name, fresh)
    app.screen.value = "1"  # the page script: window.devicePixelRatio
    app.wait_idle()
    assert app.state.pixel_ratio == 1.0 and td.images.thumb_px == 140
    assert thumb_sides(td) == {(140, 140)}  # the grid shown is drawn again, at 1x
    assert listings == []  # from the plan shown: S3 is not listed again
    app.screen.value = "1.25"  # a fractional ratio rounds up: sharp
    app.wait_idle()
    assert thumb_sides(td) == {(280, 280)}
    for forged in ("", "abc", "nan", "inf", "-1", "0", "1e309", "9", "1" * 40, "2; alert(1)"):
        app.screen.value = forged  # not a ratio the page script writes: ignored
        assert app.state.pixel_ratio == 1.25, forged
    app.screen.value = "3"
    app.wait_idle()
    assert thumb_sides(td) == {(420, 420)}


def test_a_thumbnail_is_as_sharp_as_the_screen_and_no_bigger():
    from actorbench.ui.pages.training_data.tiles import tile_thumb_px
    from actorbench.ui.widgets.common import parse_pixel_ratio

    # what String(window.devicePixelRatio) gives, and what it never gives
    assert [parse_pixel_ratio(v) for v in ("1", "2", "1.25", "0.8999999761581421")] \
        == [1, 2, 1.25, 0.8999999761581421]
    assert [parse_pixel_ratio(v) for v in (" 2 ", "0_5", "٢", "+3", "1e0", "2.", ".5")] \
        == [None] * 7
    assert [tile_thumb_px(r) for r in (0.5, 1, 1.04, 1.1, 1.5, 2, 2.25, 3, 4)] \
        == [140, 140, 140, 280, 280, 280, 420, 420, 420]
    assert [tile_thumb_px(r) for r in (0, float("nan"), float("inf"))] == [280] * 3  # unsaid


def test_cards_and_base_images_are_redrawn_sharp_for_a_2x_screen(app, wb):
    """The cards are drawn before the page can say its ratio (a preheated kernel draws them
    before the visit): at 1x, then again at 2x once a 2x page says so. The chosen actor's
    base image likewise, on the Library and on the Training Data page."""
    import base64
    import io
    import re

    from PIL import Image

    from actorbench.ui.widgets.thumbs import CARD_PX

    def sides(html: str) -> list[tuple[int, int]]:
        return [Image.open(io.BytesIO(base64.b64decode(m))).size
                for m in re.findall(r'src="data:image/jpeg;base64,([^"]+)"', html)]

    wb.layout.base_image_path(A).parent.mkdir(parents=True, exist_ok=True)
    wb.layout.base_image_path(A).write_bytes(png(7, 900))
    write_local(wb, A, 0, png(0, 900))
    lib, td = app.library, app.training_data
    lib.search.value = A
    app.wait_idle()
    wait_until(lambda: sides(lib.gallery.cards.value) == [(CARD_PX, CARD_PX)])
    app.state.actor = A
    app.wait_idle()
    wait_until(lambda: sides(lib.card.value) == [(220, 220)])
    wait_until(lambda: sides(td.base.value) == [(220, 220)])
    drawn: list[str] = []
    lib.gallery.cards.observe(lambda ch: drawn.append(ch["new"]), "value")
    app.screen.value = "2"
    app.wait_idle()
    wait_until(lambda: sides(lib.gallery.cards.value) == [(2 * CARD_PX, 2 * CARD_PX)])
    # while the 2x thumbnail was made, the card kept its 1x picture: never a blank "…"
    assert drawn and all(sides(v) for v in drawn) and "ab-gthumb-pending" not in drawn[0]
    wait_until(lambda: sides(lib.card.value) == [(440, 440)])
    wait_until(lambda: sides(td.base.value) == [(440, 440)])
    assert thumb_sides(td) == {(280, 280)}
    app.screen.value = "1"
    app.wait_idle()
    wait_until(lambda: sides(lib.gallery.cards.value) == [(CARD_PX, CARD_PX)])
    wait_until(lambda: sides(lib.card.value) == [(220, 220)])
    wait_until(lambda: thumb_sides(td) == {(140, 140)} and sides(td.base.value) == [(220, 220)])


def test_an_actor_without_images_gets_its_base_image_sharp_too(app, wb):
    import base64
    import io
    import re

    from PIL import Image

    def side(html: str) -> int:
        m = re.search(r'src="data:image/jpeg;base64,([^"]+)"', html)
        return Image.open(io.BytesIO(base64.b64decode(m.group(1)))).size[0] if m else 0

    wb.layout.base_image_path(A).parent.mkdir(parents=True, exist_ok=True)
    wb.layout.base_image_path(A).write_bytes(png(3, 900))
    td = app.training_data
    app.state.actor = A
    app.wait_idle()
    assert td.images.shown == [] and side(td.base.value) == 220
    app.screen.value = "2"
    app.wait_idle()
    wait_until(lambda: side(td.base.value) == 440)
