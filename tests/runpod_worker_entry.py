"""A worker pod on CPU: the reference handler run by the real ``runpod`` SDK's job loop, with
the stand-in trainer (tests/fake_trainer.py) in place of sd-scripts. Its environment says
where the platform is (tests/runpod_platform.py) and which bucket and model store to use."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import runpod

from tests import fake_trainer
from worker.handler import make_handler

if __name__ == "__main__":
    runpod.serverless.start({"handler": make_handler(trainer_cmd=fake_trainer.command)})
