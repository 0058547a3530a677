"""A demo world and local servers, so actorbench runs with no AWS account."""

from .server import LocalS3, free_port, start_moto, start_rclone
from .world import DemoWorld, build_demo, demo_names

__all__ = ["DemoWorld", "LocalS3", "build_demo", "demo_names", "free_port", "start_moto",
           "start_rclone"]
