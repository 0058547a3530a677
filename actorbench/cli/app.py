"""`actorbench app`: the dashboard behind a secret, with the demo world's servers if asked.

On loopback (the default) a random per-run token is made and printed in the URL, as Jupyter
does. A team server (``--ip 0.0.0.0`` or any address that is not loopback) refuses to start
unless the environment holds a fixed token or a hashed password; TLS belongs in a reverse
proxy in front of it (README, "A team server").
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..server.security import (
    BASE_ENV,
    HOSTS_ENV,
    MIN_TOKEN_CHARS,
    PASSWORD_ENV,
    TOKEN_ENV,
    is_loopback_bind,
    new_base,
    new_token,
    secret_problem,
)


def app_secret(ip: str, env: dict[str, str]) -> tuple[str, str]:
    """``(token, password_hash)`` the server will demand; refuses a team server without one.

    On loopback a missing token is made fresh for this run. On any other address the user
    must choose the secret (so teammates can be told it) and it must be long enough.
    """
    token, password = env.get(TOKEN_ENV, ""), env.get(PASSWORD_ENV, "")
    problem = secret_problem(token, password)  # a short token or a malformed hash: anywhere
    if problem:
        raise ConfigError(problem)
    if is_loopback_bind(ip):
        return (token or (new_token() if not password else "")), password
    if not token and not password:
        raise ConfigError(
            f"Refusing to serve on {ip} without a secret: anyone who reaches the port could "
            f"launch paid training and delete files. Set {TOKEN_ENV} (at least "
            f"{MIN_TOKEN_CHARS} characters, e.g. from `python -c 'import secrets; "
            f"print(secrets.token_urlsafe(32))'`) or {PASSWORD_ENV}, and put TLS in a "
            "reverse proxy in front (README: A team server).")
    return token, password


def app_url(ip: str, port: int, token: str, base: str = "/") -> str:
    """The address to open (under the app's base path), carrying the token if there is one."""
    host = "127.0.0.1" if ip in ("127.0.0.1", "0.0.0.0", "localhost") else ip
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{base}" + (f"?token={token}" if token else "")


def app_base(env: dict[str, str]) -> str:
    """The base path: the user's (a team server's stable address), else a fresh one."""
    base = env.get(BASE_ENV, "")
    if not base:
        return new_base()
    if not (base.startswith("/") and base.endswith("/")) or "//" in base or len(base) < 16:
        raise ConfigError(f"{BASE_ENV} must be a path like /ab-<16+ random characters>/, not "
                          f"{base!r}.")
    return base


def run_app(a: argparse.Namespace, settings_for: Callable[[dict[str, str]], Any],
            echo: Callable[..., None]) -> None:
    """Serve the dashboard with Voila (Ctrl-C stops everything it started)."""
    from ..demo import build_demo, start_rclone
    from ..demo.runpod_fake import start_fake_runpod
    from ..demo.server import wait_for_port
    from ..demo.uploader import sample_uploader
    from ..workbench import Workbench

    env = dict(os.environ)
    if a.allow_host:
        env[HOSTS_ENV] = ",".join([*filter(None, env.get(HOSTS_ENV, "").split(",")),
                                   *a.allow_host])
    token, password = app_secret(a.ip, env)
    env["ACTORBENCH_APP_IP"] = a.ip  # the kernel's deep-link socket connects there
    env[TOKEN_ENV], env[PASSWORD_ENV] = token, password
    env[BASE_ENV] = base = app_base(env)
    # the kernels' IPC sockets: a 0700 folder of this run, removed however the app stops
    connections = Path(tempfile.mkdtemp(prefix="ab-kernels-"))
    if not is_loopback_bind(a.ip):
        echo(f"warning: serving on {a.ip} over plain HTTP; put TLS in a reverse proxy in front "
             "(README: A team server).", err=True)
    started: list[Any] = []
    # a plain `kill` must stop the servers too, not only Ctrl-C
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        # before the demo is built; and else the wait below would find whoever holds it
        port_is_free(a.ip, a.port)
        if a.demo:
            s3 = start_rclone(a.s3_dir, settings_for(env).bucket)
            started.append(s3)
            env.update(s3.env)
            settings = settings_for(env)
            echo(f"Preparing the demo world (local S3 at {s3.endpoint_url}) ...")
            wb = Workbench(settings)
            build_demo(wb.layout, wb.store, settings.region)
            if not env.get("RUNPOD_ENDPOINT_ID"):
                rp = start_fake_runpod(speed=1.0, uploader=sample_uploader(wb.store))
                started.append(rp)
                env.update(rp.env)
        # the Voila kernel runs in notebooks/: hand it absolute paths
        env["ACTORBENCH_DATA_DIR"] = str(Path(settings_for(env).data_dir).resolve())
        from ..server.command import NOTEBOOK, voila_command

        if not NOTEBOOK.is_file():
            raise ConfigError(f"{NOTEBOOK} not found: this install of actorbench lacks its "
                              "package data; reinstall it (pip install --force-reinstall).")
        cmd = voila_command(a.port, ip=a.ip, connections=connections)
        shown = app_url(a.ip, a.port, token, base)
        echo("Starting the dashboard ...")
        proc = subprocess.Popen(cmd, env=env)
        try:
            # the address is printed once it answers: opened at once, it loads
            host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(a.ip, a.ip)
            wait_for_port(a.port, 180.0, proc, host, "The dashboard's server")
            echo(f"actorbench is serving on {shown}  (Ctrl-C stops it)")
            proc.wait()
        except ConfigError:  # it exited, or never listened
            proc.kill()
            proc.wait()
            raise
        except (KeyboardInterrupt, SystemExit):
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            raise
    finally:
        for s in reversed(started):
            s.stop()
        shutil.rmtree(connections, ignore_errors=True)


def port_is_free(ip: str, port: int) -> None:
    """``ConfigError`` naming the port if something already listens there."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Tornado binds
        try:
            s.bind((ip, port))
        except OSError as exc:
            raise ConfigError(f"Port {port} on {ip} is in use ({exc.strerror}): stop what "
                              "holds it, or choose another with --port.") from None


def add_app_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--demo", action=argparse.BooleanOptionalAction, default=True,
                   help="Start a local S3 server seeded with the demo.")
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--ip", default="127.0.0.1",
                   help="Address to bind (default loopback only). Any other address needs "
                        f"{TOKEN_ENV} or {PASSWORD_ENV}.")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help=f"Serve requests whose Host is NAME too (repeatable; {HOSTS_ENV}).")
    p.add_argument("--s3-dir", type=Path, default=Path(".demo/s3"))
