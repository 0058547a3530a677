"""dlib's face models, found and loaded without importing ``face_recognition_models``.

Importing that package runs ``pkg_resources`` (gone from setuptools 81+), and the
``face_recognition`` package answers the failure with ``quit()``, which would end a kernel: the
``.dat`` files are located through ``importlib.util.find_spec`` and handed to dlib directly.
Only the 5-point landmark model and the ResNet descriptor are loaded; the 68-point model's
training set (iBUG 300-W) excludes commercial use, so it is never touched.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ActorbenchError

INSTALL_HINT = ("face checks need dlib-bin and face-recognition-models: "
                "pip install 'actorbench[faces]' (or `make app`, which installs them)")
LANDMARKS_5 = "shape_predictor_5_face_landmarks.dat"
DESCRIPTOR = "dlib_face_recognition_resnet_model_v1.dat"


class FacesUnavailable(ActorbenchError):
    """dlib or the model files are not installed; the message says how to add them."""


def models_dir() -> Path:
    """The folder of the ``.dat`` files, found without importing their package."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FacesUnavailable(INSTALL_HINT)
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    for name in (LANDMARKS_5, DESCRIPTOR):
        if not (folder / name).is_file():
            raise FacesUnavailable(f"{folder / name} is missing; {INSTALL_HINT}")
    return folder


def available() -> bool:
    """True when dlib imports and both model files are there."""
    try:
        models_dir()
        return importlib.util.find_spec("dlib") is not None
    except FacesUnavailable:
        return False


@dataclass(frozen=True)
class Models:
    """The detector, the 5-point predictor and the descriptor of one process."""

    dlib: Any
    detector: Any
    landmarks: Any
    descriptor: Any


_LOCK = threading.Lock()
_LOADED: list[Models] = []
#: dlib's detector and networks keep working memory in the object: two threads using them at
#: once corrupt the heap ("free(): invalid pointer"). Every use holds this lock.
USE = threading.Lock()


def load() -> Models:
    """Load the models once per process (about 0.35 s), thread-safe."""
    with _LOCK:
        if not _LOADED:
            folder = models_dir()
            try:
                import dlib
            except ImportError as e:
                raise FacesUnavailable(INSTALL_HINT) from e
            _LOADED.append(Models(
                dlib=dlib,
                detector=dlib.get_frontal_face_detector(),
                landmarks=dlib.shape_predictor(str(folder / LANDMARKS_5)),
                descriptor=dlib.face_recognition_model_v1(str(folder / DESCRIPTOR)),
            ))
        return _LOADED[0]
