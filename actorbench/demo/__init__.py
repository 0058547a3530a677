"""A demo world and local servers, so actorbench runs with no AWS account."""

from .runpod_fake import FakeRunPod, start_fake_runpod
from .server import LocalS3, free_port, start_moto, start_rclone
from .world import DemoWorld, build_demo, demo_names


def start_fake_runpod_env(speed: float = 1.0) -> dict[str, str]:
    """Start a fake RunPod endpoint for the life of this process; returns its environment."""
    return start_fake_runpod(speed=speed).env


__all__ = ["DemoWorld", "FakeRunPod", "LocalS3", "build_demo", "demo_names", "free_port",
           "start_fake_runpod", "start_fake_runpod_env", "start_moto", "start_rclone"]
