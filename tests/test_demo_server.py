"""The local S3 server the demo, the tests and the bench start: its errors are kept where they
cannot block it, and said when it cannot start."""

from __future__ import annotations

import socket

import pytest

from actorbench.demo.server import start_rclone
from actorbench.errors import ConfigError


def test_rclone_errors_go_to_a_file_and_are_said_when_it_cannot_start(tmp_path):
    with socket.socket() as taken:  # bound, not listening: rclone cannot have the port
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError) as failed:
            start_rclone(tmp_path / "s3", "b", port=port)
    assert "exited early" in str(failed.value)
    assert "address already in use" in str(failed.value)  # rclone's own words


def test_a_running_rclone_has_no_pipe_to_fill(tmp_path):
    s3 = start_rclone(tmp_path / "s3", "b")
    try:
        assert s3.proc is not None and s3.proc.stderr is None  # not a pipe nobody reads
        assert s3.log is not None and not s3.log.closed
    finally:
        s3.stop()
    assert s3.log.closed and s3.proc.poll() is not None
