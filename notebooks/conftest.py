"""nbval runs the notebooks' kernels with this environment: a small demo world on moto."""

from __future__ import annotations

import atexit
import os
import tempfile
from pathlib import Path

_STARTED: dict[str, object] = {}


def _start_world() -> None:
    from actorbench.demo import build_demo, start_fake_runpod_env, start_moto
    from actorbench.settings import Settings
    from actorbench.workbench import Workbench

    root = Path(tempfile.mkdtemp(prefix="actorbench-nbval-"))
    s3 = start_moto()
    atexit.register(s3.stop)
    env = {**s3.env, "ACTORBENCH_DATA_DIR": str(root / "data")}
    env.update(start_fake_runpod_env(speed=20.0))
    settings = Settings.from_env(env=env, dotenv=False)
    wb = Workbench(settings)
    build_demo(wb.layout, wb.store, settings.region, imaged=6, size=256, processes=1, stocked=8)
    os.environ.update(env)
    _STARTED["world"] = root


def pytest_runtest_setup(item: object) -> None:
    if "world" not in _STARTED:
        _start_world()
