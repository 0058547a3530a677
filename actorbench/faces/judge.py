"""What the measurements mean: pose, framing, identity distances and findings in words.

Thresholds are named here with what they were checked against (the photographs of
``actorbench.demo.photos``: official portraits of Barack Obama and Joe Biden and their crops,
blurs and mirror images; see tests/test_faces.py, which fails if they stop holding).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import numpy as np

from .analyse import Face, ImageFaces

# Euclidean distance of two 128-d descriptors: dlib's own same-person cut (99.38 % on LFW).
# Checked: the same person 0.23-0.43 across the five Obama photographs, 0.16 for a mirror
# image, 0.14-0.37 blurred or shrunk to a 45 px face; Obama against Biden 0.81-0.87.
SAME_PERSON_MAX = 0.6
# The face's short side at the training resolution (the picture scaled so its area is the
# resolution squared, as the trainers' aspect buckets do) below 1/16 of it: 64 px at 1024.
# Checked: obama.jpg shrunk into a 1024 canvas to a 45 px face is flagged, 65 px is not.
FACE_SMALL_FRACTION = 1 / 16
# Variance of the Laplacian of the face crop (shrunk to 128 px if larger). Checked: the six
# photographs give 176-371, their retouched 512x640 copies (faces 86-215 px) 200-390; the three
# portraits blurred with a Gaussian of radius 1.5 px give 60-76, 2 px 36-42, 3 px 14-16.
BLUR_MAX = 80.0
# Pose from the 5 landmarks: the nose's offset from the eyes' midpoint over the eyes' span.
# The six frontal photographs give |yaw| 0.02-0.13. HOG finds few true profiles, so
# "profile" is rare: a set the detector sees in profile at all is a set with profiles.
FRONTAL_MAX = 0.18
THREE_QUARTER_MAX = 0.55
# Framing: how much picture lies below the face, in face heights (a face box is ~0.75 head).
CLOSE_UP_MAX = 1.2
HEAD_SHOULDERS_MAX = 3.0
HALF_BODY_MAX = 6.5


class Finding(enum.Enum):
    """One word-finding per image; ``css`` is the badge's class (ab-face-...)."""

    SAME = "Same person"
    OTHER = "Other person?"
    NO_FACE = "No face"
    FACES = "2 faces"
    SMALL = "Face small for {res} px"
    BLURRED = "Blurred face"
    UNREADABLE = "Not a picture"

    @property
    def css(self) -> str:
        return "ab-face-" + self.name.lower().replace("_", "-")

    def words(self, resolution: int = 1024, faces: int = 2) -> str:
        if self is Finding.FACES:
            return f"{faces} faces"
        return self.value.format(res=resolution)

    @property
    def blocks(self) -> bool:
        """Another person, no face or an unreadable picture: a blocker until confirmed."""
        return self in (Finding.OTHER, Finding.NO_FACE, Finding.UNREADABLE)


class Pose(enum.Enum):
    FRONTAL = "frontal"
    LEFT = "three-quarter left"
    RIGHT = "three-quarter right"
    PROFILE = "profile"


class Framing(enum.Enum):
    CLOSE_UP = "close-up"
    HEAD_SHOULDERS = "head and shoulders"
    HALF_BODY = "half body"
    FULL_BODY = "full body"


def yaw(face: Face) -> float:
    """The nose's offset from the eyes' midpoint over the eyes' span: <0 turned to the
    picture's left, >0 to its right, 0 frontal (dlib's 5 points: 0-1 one eye, 2-3 the other,
    4 the nose base)."""
    p = np.asarray(face.landmarks, dtype=float)
    eye_a, eye_b = p[0:2].mean(axis=0), p[2:4].mean(axis=0)
    span = float(np.linalg.norm(eye_a - eye_b)) or 1.0
    mid = (eye_a + eye_b) / 2
    axis = (eye_a - eye_b) / span if eye_a[0] >= eye_b[0] else (eye_b - eye_a) / span
    return float(np.dot(p[4] - mid, axis) / span)


def pose_of(face: Face) -> Pose:
    y = yaw(face)
    if abs(y) <= FRONTAL_MAX:
        return Pose.FRONTAL
    if abs(y) <= THREE_QUARTER_MAX:
        return Pose.LEFT if y < 0 else Pose.RIGHT
    return Pose.PROFILE


def framing_of(face: Face, height: int) -> Framing:
    top, bottom = face.box[1], face.box[3]
    below = (height - bottom) / max(1, bottom - top)
    if below <= CLOSE_UP_MAX:
        return Framing.CLOSE_UP
    if below <= HEAD_SHOULDERS_MAX:
        return Framing.HEAD_SHOULDERS
    if below <= HALF_BODY_MAX:
        return Framing.HALF_BODY
    return Framing.FULL_BODY


def face_at_resolution(img: ImageFaces, face: Face, resolution: int) -> float:
    """The face's short side once the picture is scaled to ``resolution``² pixels of area."""
    return face.side * resolution / max(1.0, (img.width * img.height) ** 0.5)


def distance(a: Sequence[float], b: Sequence[float]) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


def closest_face(img: ImageFaces, ref: Sequence[float] | None) -> Face | None:
    """The face nearest the reference (with two people, the actor is the one to judge)."""
    if not img.faces or ref is None:
        return img.main
    return min(img.faces, key=lambda f: distance(f.descriptor, ref))


def findings(img: ImageFaces, ref: Sequence[float] | None, resolution: int = 1024
             ) -> list[Finding]:
    """Every finding of one picture against the reference, the most serious first."""
    if img.error:
        return [Finding.UNREADABLE]
    if not img.faces:
        return [Finding.NO_FACE]
    out = []
    face = closest_face(img, ref)
    assert face is not None
    if ref is not None and distance(face.descriptor, ref) > SAME_PERSON_MAX:
        out.append(Finding.OTHER)
    if len(img.faces) > 1:
        out.append(Finding.FACES)
    if face_at_resolution(img, face, resolution) < FACE_SMALL_FRACTION * resolution:
        out.append(Finding.SMALL)
    elif face.sharpness < BLUR_MAX:
        out.append(Finding.BLURRED)
    if not out and ref is not None:
        out.append(Finding.SAME)
    return out
