"""The Training Data grid badges who is in each picture (real photographs): the intruder's tile
says "Other person?", the others "Same person"; a painted set gets no face badges."""

from __future__ import annotations

import io

from actorbench.demo import photos as ph
from tests.helpers import png, wait_until, write_local
from tests.single_backend import backend  # noqa: F401 - one backend here

A = "0001_european_30_female"
B = "0002_african_45_male"


def _png(img) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_grid_badges_the_intruder_and_leaves_painted_sets_alone(app, wb):  # type: ignore[no-untyped-def]
    photos = ph.fetch_photos()
    own = [ph.load_rgb(photos[n]) for n in ("obama.jpg", "obama2.jpg", "obama3.jpg")]
    for i in range(3):
        write_local(wb, A, i, _png(ph.variant(own[i], i)))
    write_local(wb, A, 3, _png(ph.variant(ph.load_rgb(photos["biden.jpg"]), 1)))
    write_local(wb, A, 4, _png(ph.no_face(own[0])))
    for i in range(3):
        write_local(wb, B, i, png(i))
    app.state.actor = A
    td = app.training_data

    def face_classes() -> dict[int, str]:
        return {t.index: (t.value.split("ab-face ", 1)[1].split('"', 1)[0]
                          if "ab-face " in t.value else "") for t in td.images.shown}

    wait_until(lambda: len(td.images.shown) == 5 and all(face_classes().values()), timeout=120)
    assert face_classes() == {0: "ab-face-same", 1: "ab-face-same", 2: "ab-face-same",
                              3: "ab-face-other", 4: "ab-face-no-face"}
    assert "Other person?" in td.images.shown[3].value
    assert td.model.error == ""
    app.state.actor = B
    app.wait_idle()
    wait_until(lambda: len(td.images.shown) == 3)
    # the probe of B's painted pictures is done (its analyses cached): still no face badge
    wait_until(lambda: (wb.layout.actor_dir(B) / ".faces.json").exists(), timeout=60)
    import time

    time.sleep(0.2)
    assert not any("ab-face" in t.value for t in td.images.shown)


def test_training_page_names_the_intruder_and_confirming_lifts_the_blocker(app, wb):  # type: ignore[no-untyped-def]
    photos = ph.fetch_photos()
    own = [ph.load_rgb(photos[n]) for n in ("obama.jpg", "obama2.jpg", "obama3.jpg")]
    for i in range(4):
        write_local(wb, A, i, _png(ph.variant(own[i % 3], i)))
    write_local(wb, A, 4, _png(ph.variant(ph.load_rgb(photos["biden.jpg"]), 1)))
    app.state.actor = A
    page = app.page("Training")
    wait_until(lambda: "another person" in page.validation.value, timeout=120)
    assert f"{A}_4.png" in page.validation.value and page.start_button.disabled
    assert page.face_confirm.layout.display == "" and page.face_confirm.names == [f"{A}_4.png"]
    page.face_confirm.click()
    wait_until(lambda: "another person" not in page.validation.value
               and "Not ready" in page.validation.value, timeout=120)  # still: not in S3
    assert page.face_confirm.layout.display == "none"
