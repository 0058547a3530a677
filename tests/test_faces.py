"""Face checks on real photographs from a package (face_recognition 1.3.0's sdist test images):
the thresholds of actorbench.faces.judge hold on them, and the cache works by content."""

from __future__ import annotations

import io
import os
from functools import cache
from pathlib import Path

import pytest
from PIL import Image, ImageFilter, ImageOps

from actorbench.demo import photos as ph
from actorbench.demo.portraits import Identity, draw_portrait
from actorbench.faces import (
    NOT_PHOTOGRAPHIC,
    FacesUnavailable,
    Finding,
    ImageFaces,
    Pose,
    analyse,
    judge_actor,
    scan,
)
from actorbench.faces import models as face_models
from actorbench.faces.judge import SAME_PERSON_MAX, distance, yaw
from actorbench.storage.layout import Layout

OBAMA = ["obama.jpg", "obama2.jpg", "obama3.jpg", "obama_partial_face.jpg",
         "obama_partial_face2.jpg"]


@pytest.fixture(scope="module")
def photos() -> dict[str, Path]:
    return ph.fetch_photos()


@cache
def _analysed(name: str) -> ImageFaces:
    return analyse(ph.fetch_photos()[name])


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_same_person_fits_and_another_person_is_flagged(photos: dict[str, Path]) -> None:
    images = {n: _analysed(n) for n in [*OBAMA[1:], "biden.jpg"]}
    judged = judge_actor("obama", images, base=_analysed("obama.jpg"))
    assert judged.reference is not None and judged.reference.source == "base"
    by = {r.name: r for r in judged.images}
    for n in OBAMA[1:]:
        assert by[n].findings == (Finding.SAME,), (n, by[n].distance)
        assert by[n].distance is not None and by[n].distance < 0.45
    assert by["biden.jpg"].findings[0] is Finding.OTHER
    assert by["biden.jpg"].words[0] == "Other person?"
    assert by["biden.jpg"].distance is not None and by["biden.jpg"].distance > 0.8
    # the intruder stands out from the rest of the set too, without the reference
    loo = {n: r.loo for n, r in by.items()}
    assert max(loo, key=lambda n: loo[n] or 0) == "biden.jpg"
    assert judged.fit == 4 and [r.name for r in judged.attention] == ["biden.jpg"]
    assert judged.health().startswith("4 of 5 fit (reference: obama_base, base)")


def test_every_pair_of_one_person_is_under_the_cut_and_two_people_far_above() -> None:
    descs = {n: _analysed(n).faces[0].descriptor for n in [*OBAMA, "biden.jpg"]}
    for a in OBAMA:
        for b in OBAMA:
            assert distance(descs[a], descs[b]) < SAME_PERSON_MAX - 0.1
        assert distance(descs[a], descs["biden.jpg"]) > SAME_PERSON_MAX + 0.15


def test_no_face_two_faces_small_and_blurred_are_named(photos: dict[str, Path]) -> None:
    obama, biden = ph.load_rgb(photos["obama.jpg"]), ph.load_rgb(photos["biden.jpg"])
    painted = draw_portrait(Identity.for_actor("0002_african_40_male", "african", "male", 40),
                            0, 768)
    pictures = {
        "suit.png": ph.no_face(obama),
        "painted.png": painted,
        "two.png": ph.side_by_side(obama, biden),
        "small.png": ph.shrunk(obama, 0.17),  # a ~45 px face in 1024 px
        "smallish.png": ph.shrunk(obama, 0.5),  # a ~130 px face: fine
        "blurred.png": obama.filter(ImageFilter.GaussianBlur(3)),
    }
    images = {n: analyse(_png(img)) for n, img in pictures.items()}
    judged = judge_actor("obama", images, base=_analysed("obama.jpg"))
    by = {r.name: r for r in judged.images}
    assert by["suit.png"].words == ["No face"]
    assert by["painted.png"].words == ["No face"]
    assert by["two.png"].faces == 2 and "2 faces" in by["two.png"].words
    assert by["two.png"].distance is not None and by["two.png"].distance < 0.45  # judged on Obama
    assert by["small.png"].words == ["Face small for 1024 px"]
    assert by["small.png"].face_px is not None and by["small.png"].face_px < 64
    assert by["smallish.png"].words == ["Same person"]
    assert by["blurred.png"].words == ["Blurred face"]
    # at a lower training resolution the same face is less small: the words follow it
    low = judge_actor("obama", {"small.png": images["small.png"]}, _analysed("obama.jpg"), 512)
    assert low.images[0].words == ["Face small for 512 px"]
    assert not any(f.blocks for f in by["small.png"].findings)
    assert Finding.NO_FACE.blocks and Finding.OTHER.blocks
    assert Finding.NO_FACE.css == "ab-face-no-face" and Finding.OTHER.css == "ab-face-other"


def test_reference_falls_back_to_the_medoid_and_can_be_chosen() -> None:
    images = {n: _analysed(n) for n in [*OBAMA, "biden.jpg"]}
    judged = judge_actor("obama", images, base=None)
    assert judged.reference is not None and judged.reference.source == "medoid"
    assert judged.reference.image in OBAMA
    assert [r.name for r in judged.images if r.finding is Finding.OTHER] == ["biden.jpg"]
    chosen = judge_actor("obama", images, chosen="biden.jpg")
    assert chosen.reference is not None and chosen.reference.source == "chosen"
    assert sorted(r.name for r in chosen.images if r.finding is Finding.OTHER) == sorted(OBAMA)
    with pytest.raises(ValueError, match="no face"):
        judge_actor("obama", {"x.png": ImageFaces("0", 10, 10)}, chosen="x.png")


def test_painted_actor_is_said_once_to_have_no_photographic_faces() -> None:
    images = {f"{v}.png": analyse(_png(draw_portrait(
        Identity.for_actor("0002_african_40_male", "african", "male", 40), v, 512)))
        for v in range(3)}
    # the HOG detector sees a face in about one painted portrait in ten (this one): it is
    # known as drawn, and the set is still said once, not judged against a drawing
    fooled = analyse(_png(draw_portrait(
        Identity.for_actor("0001_european_30_female", "european", "female", 30), 1, 768)))
    assert fooled.faces == () and fooled.drawn == 1
    judged = judge_actor("0002_african_40_male", {**images, "3.png": fooled})
    assert not judged.photographic and judged.reference is None
    assert judged.health() == NOT_PHOTOGRAPHIC
    assert judged.lacks == ()


def test_pose_turns_with_a_mirror_and_the_portraits_are_frontal(photos: dict[str, Path]) -> None:
    face = _analysed("obama2.jpg").faces[0]
    mirrored = analyse(_png(ImageOps.mirror(ph.load_rgb(photos["obama2.jpg"])))).faces[0]
    assert yaw(face) == pytest.approx(-yaw(mirrored), abs=0.05)
    judged = judge_actor("obama", {n: _analysed(n) for n in OBAMA})
    assert {r.pose for r in judged.images} == {Pose.FRONTAL}
    assert "no profile" in judged.lacks and "no full body" in judged.lacks


def test_unreadable_picture_is_a_finding_not_an_error() -> None:
    r = analyse(b"not an image")
    assert r.error and judge_actor("a", {"x.png": r}).images[0].words == ["Not a picture"]


def test_missing_models_say_how_to_add_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(face_models.importlib.util, "find_spec", lambda name: None)
    assert not face_models.available()
    with pytest.raises(FacesUnavailable, match=r"pip install 'actorbench\[faces\]'"):
        face_models.models_dir()


def test_scan_analyses_each_content_once(tmp_path: Path, photos: dict[str, Path]) -> None:
    layout = Layout(tmp_path, "p")
    actor = "0001_european_30_male"
    folder = layout.training_dir(actor)
    folder.mkdir(parents=True)
    for i, n in enumerate(["obama2.jpg", "obama3.jpg", "biden.jpg"]):
        (folder / f"{actor}_{i}.png").write_bytes(_png(ph.load_rgb(photos[n])))
    base = layout.base_image_path(actor)
    base.parent.mkdir(parents=True)
    base.write_bytes(photos["obama.jpg"].read_bytes())
    calls: list[tuple[int, int]] = []

    def first(workers: int) -> list[tuple[int, int]]:
        calls.clear()
        scan(layout, [actor], lambda d, t: calls.append((d, t)), workers=workers)
        return calls

    assert first(2)[-1] == (4, 4)  # three images and the base, in two processes
    found = scan(layout, [actor], workers=1)[0]
    assert first(1) == [(0, 0)]  # nothing changed: nothing analysed
    judged = found.judge()
    assert [r.name for r in judged.images if r.finding is Finding.OTHER] == [f"{actor}_2.png"]
    # touched, same content: found by content, not analysed again
    os.utime(folder / f"{actor}_0.png", ns=(1, 1))
    assert first(1) == [(0, 0)]
    # changed to a content seen before (image 0's): found by content, not analysed
    (folder / f"{actor}_2.png").write_bytes((folder / f"{actor}_0.png").read_bytes())
    assert first(1) == [(0, 0)]
    # changed to a new content: analysed again, and only that file
    mirrored = ImageOps.mirror(ph.load_rgb(photos["obama2.jpg"]))
    (folder / f"{actor}_2.png").write_bytes(_png(mirrored))
    assert first(1)[-1] == (1, 1)
    assert scan(layout, [actor], workers=1)[0].judge().fit == 3
    # a deleted image leaves the cache
    (folder / f"{actor}_1.png").unlink()
    after = scan(layout, [actor], workers=1)[0]
    assert sorted(after.analyses) == [f"{actor}_0.png", f"{actor}_2.png"]
    # a corrupt cache is rebuilt, never trusted
    (layout.actor_dir(actor) / ".faces.json").write_text("{not json")
    assert first(1)[-1] == (3, 3)


def test_validation_blocks_another_person_and_no_face_until_confirmed(
        tmp_path: Path, photos: dict[str, Path]) -> None:
    from actorbench.training.likeness import confirm, face_validation

    layout = Layout(tmp_path, "p")
    actor = "0001_african_50_male"
    folder = layout.training_dir(actor)
    folder.mkdir(parents=True)
    own = [ph.load_rgb(photos[n]) for n in OBAMA[:3]]
    for i in range(4):
        (folder / f"{actor}_{i}.png").write_bytes(_png(ph.variant(own[i % 3], i)))
    (folder / f"{actor}_4.png").write_bytes(_png(ph.variant(ph.load_rgb(photos["biden.jpg"]), 2)))
    (folder / f"{actor}_5.png").write_bytes(_png(ph.no_face(own[0])))
    found = {f.code: f for f in face_validation(layout, actor, 1024)}
    assert found["other_person"].level == "blocker" and found["other_person"].indices == (4,)
    assert f"{actor}_4.png" in found["other_person"].message
    assert found["no_face"].level == "blocker" and found["no_face"].indices == (5,)
    assert found["coverage"].level == "warning" and "no profile" in found["coverage"].message
    confirm(layout, actor, [f"{actor}_4.png"])
    codes = {f.code for f in face_validation(layout, actor, 1024)}
    assert "other_person" not in codes and "no_face" in codes
    # a confirmed picture replaced by another is not confirmed any more
    (folder / f"{actor}_4.png").write_bytes(_png(ImageOps.mirror(ph.load_rgb(photos["biden.jpg"]))))
    assert "other_person" in {f.code for f in face_validation(layout, actor, 1024)}
    with pytest.raises(Exception, match="not a training image"):
        confirm(layout, actor, ["../../etc/passwd"])
