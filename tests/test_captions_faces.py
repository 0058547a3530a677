"""Draft captions take pose and framing from the face analysis of real photographs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from actorbench.captions import drafts_for, facet_words
from actorbench.demo import photos as ph
from actorbench.faces import Framing, Pose, available
from actorbench.faces.service import FaceWords
from actorbench.storage.layout import Layout

pytestmark = pytest.mark.skipif(not available(), reason="needs the faces extra")
A = "0001_european_30_male"


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_drafts_say_pose_and_framing_and_never_the_fixed_traits(tmp_path: Path) -> None:
    photos = ph.fetch_photos()
    layout = Layout(tmp_path, "p")
    folder = layout.training_dir(A)
    folder.mkdir(parents=True)
    for i, n in enumerate(["obama2.jpg", "obama3.jpg"]):
        (folder / f"{A}_{i}.png").write_bytes(_png(ph.load_rgb(photos[n])))
    (folder / f"{A}_2.png").write_bytes(_png(Image.new("RGB", (640, 640), (90, 120, 150))))
    words = FaceWords(layout, workers=1)
    for i in (0, 1):
        said = words(f"{A}_{i}.png")
        assert said[0] in {p.value for p in Pose} and said[1] in {f.value for f in Framing}
    assert words(f"{A}_2.png") == []  # no face: nothing to say about it
    names = {i: f"{A}_{i}.png" for i in range(3)}
    drafts = drafts_for(names, "zqkvt", words, facet_words("european", "male"))
    assert drafts[0] == "zqkvt, " + ", ".join(words(f"{A}_0.png"))
    assert drafts[2] == "zqkvt, photo"
    assert not any(t in d for d in drafts.values() for t in ("european", "male", "30"))


def test_a_painted_actor_gets_plain_drafts(tmp_path: Path) -> None:
    from actorbench.demo.portraits import Identity, draw_portrait

    layout = Layout(tmp_path, "p")
    folder = layout.training_dir(A)
    folder.mkdir(parents=True)
    ident = Identity.for_actor(A, "european", "male", 30)
    for v in range(3):
        (folder / f"{A}_{v}.png").write_bytes(_png(draw_portrait(ident, v, size=512)))
    words = FaceWords(layout, workers=1)
    assert [words(f"{A}_{v}.png") for v in range(3)] == [[], [], []]
