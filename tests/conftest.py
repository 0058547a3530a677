"""Fixtures: clean environment, real S3 servers on 127.0.0.1 (moto and rclone), workbenches."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from actorbench.demo import LocalS3, start_moto, start_rclone
from actorbench.settings import Settings
from actorbench.storage.client import make_s3_client
from actorbench.workbench import Workbench

if TYPE_CHECKING:
    from actorbench.notebook import Notebook
from tests.netfixtures import ConnectProxy


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may see a developer's AWS or RunPod settings."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "RUNPOD_", "ACTORBENCH_")) or key.lower() in (
                "https_proxy", "http_proxy", "no_proxy", "all_proxy"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[LocalS3]:
    s3 = start_moto()
    yield s3
    s3.stop()


@pytest.fixture(scope="session")
def rclone_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalS3]:
    s3 = start_rclone(tmp_path_factory.mktemp("rclone-s3"), "placeholder")
    yield s3
    s3.stop()


def settings_for(s3: LocalS3 | None, data_dir: Path, bucket: str, **extra: str) -> Settings:
    env = {"ACTORBENCH_DATA_DIR": str(data_dir), "ACTORBENCH_BUCKET": bucket}
    if s3 is not None:
        env.update(s3.env)
        env.update({k: v for k, v in s3.extra.items() if isinstance(v, str)})
    else:
        env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    env.update(extra)
    return Settings.from_env(env=env, dotenv=False)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(server cert, key, CA) for 127.0.0.1, localhost and the proxy-only host name."""
    from tests.netfixtures import make_ca_and_cert

    return make_ca_and_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def rclone_tls_server(tmp_path_factory: pytest.TempPathFactory,
                      tls_files: tuple[Path, Path, Path]) -> Iterator[LocalS3]:
    """``rclone serve s3 --cert --key``: HTTPS with a private CA (trusted via AWS_CA_BUNDLE)."""
    s3 = start_rclone(tmp_path_factory.mktemp("rclone-tls"), "placeholder", tls=tls_files)
    yield s3
    s3.stop()


@pytest.fixture(scope="session")
def connect_proxy() -> Iterator[ConnectProxy]:
    """An HTTP CONNECT proxy, the only resolver of ``PROXY_ONLY_HOST`` (127.0.0.1)."""
    from tests.netfixtures import PROXY_ONLY_HOST

    proxy = ConnectProxy({PROXY_ONLY_HOST: "127.0.0.1"})
    yield proxy
    proxy.stop()


def one_actor_workbench(s3: LocalS3, tmp_path: Path, lean: bool = False
                        ) -> tuple[Workbench, str]:
    """A workbench over a fresh bucket on ``s3`` with one actor (boto3's store, or lean's)."""
    from actorbench.actors import Actor, Registry
    from actorbench.workbench import lean_store

    bucket = f"ab-{uuid.uuid4().hex[:10]}"
    settings = settings_for(s3, tmp_path / "data", bucket)
    make_s3_client(settings).create_bucket(Bucket=bucket)
    settings.data_dir.mkdir(parents=True)
    a = "0001_european_30_female"
    Registry(settings.registry_path, [Actor(1, a)]).save()
    return Workbench(settings, store=lean_store(settings) if lean else None), a


BACKENDS = ["memory", "moto-inprocess", "moto-server", "rclone-server", "moto-server-lean",
            "rclone-server-lean"]
#: the contract over HTTPS (a private CA in AWS_CA_BUNDLE), directly and through an HTTP
#: CONNECT proxy in HTTPS_PROXY, each through boto3 and the lean store; only tests marked
#: ``tls`` run on them (``pytest_collection_modifyitems``)
TLS_BACKENDS = ["rclone-tls", "rclone-tls-lean", "rclone-tls-proxy", "rclone-tls-proxy-lean"]


@pytest.fixture(params=BACKENDS + TLS_BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[LocalS3 | None]:
    """The contract runs against each backend: moto in process, moto and rclone as servers,
    each server through boto3 (``S3Store``) and through the lean client (``LeanS3Store``)."""
    if request.param == "memory":
        yield None
    elif request.param == "moto-inprocess":
        from moto import mock_aws

        with mock_aws():
            yield None
    elif request.param.startswith("moto-server"):
        yield request.getfixturevalue("moto_server")
    elif request.param.startswith("rclone-tls-proxy"):
        from tests.netfixtures import PROXY_ONLY_HOST

        s3: LocalS3 = request.getfixturevalue("rclone_tls_server")
        proxy: ConnectProxy = request.getfixturevalue("connect_proxy")
        port = urlsplit(s3.endpoint_url).port
        yield replace(s3, endpoint_url=f"https://{PROXY_ONLY_HOST}:{port}",
                      extra={"HTTPS_PROXY": proxy.url})
    elif request.param.startswith("rclone-tls"):
        yield request.getfixturevalue("rclone_tls_server")
    else:
        yield request.getfixturevalue("rclone_server")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The TLS backends run only the contract tests marked ``tls``."""
    keep, drop = [], []
    for item in items:
        spec = getattr(item, "callspec", None)
        name = spec.params.get("backend") if spec is not None else None
        tls_only = name in TLS_BACKENDS and item.get_closest_marker("tls") is None
        (drop if tls_only else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def store_kind(request: pytest.FixtureRequest) -> str:
    param = getattr(request.node, "callspec", None)
    name = param.params.get("backend", "") if param else ""
    return "lean" if str(name).endswith("-lean") else "memory" if name == "memory" else "boto3"


@pytest.fixture
def wb(backend: LocalS3 | None, tmp_path: Path, store_kind: str) -> Workbench:
    """A workbench over a fresh bucket with an empty registry of three actors."""
    from actorbench.actors import Actor, Registry

    bucket = f"ab-{uuid.uuid4().hex[:12]}"
    settings = settings_for(backend, tmp_path / "data", bucket)
    reg = Registry(settings.registry_path, [
        Actor(1, "0001_european_30_female"), Actor(2, "0002_african_45_male"),
        Actor(3, "0003_east_asian_22_female", extra={"custom": {"keep": True}})])
    settings.data_dir.mkdir(parents=True)
    reg.save()
    if store_kind == "memory":
        from actorbench.storage.memory import MemoryStore

        return Workbench(settings, store=MemoryStore(bucket))
    client = make_s3_client(settings, attempts=1)  # as Workbench builds it: S3Store retries
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={
        "LocationConstraint": settings.region})
    if store_kind == "lean":
        from actorbench.workbench import lean_store

        return Workbench(settings, store=lean_store(settings))
    return Workbench(settings, client=client)


@pytest.fixture
def nb(wb: Workbench) -> Notebook:
    """The notebook workbench (``ab.open()``'s kind) over ``wb``'s bucket and registry."""
    from actorbench.notebook import Notebook

    return Notebook(wb.settings, client=wb._client, store=wb.__dict__.get("store"))


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    """A test marked ``@pytest.mark.attack(what, outcome)`` records its attack once it passed."""
    if call.when == "call" and call.excinfo is None:
        from tests.figures import attack

        for mark in item.iter_markers("attack"):
            attack(*mark.args)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Keep what the tests measured (only from a fully green run) for `make reliability`."""
    import json

    from tests.figures import ATTACKS, FIGURES
    from tests.figures import OUT as FIGURES_OUT

    if not (FIGURES or ATTACKS) or session.testsfailed:
        return
    FIGURES_OUT.parent.mkdir(exist_ok=True)
    FIGURES_OUT.write_text(json.dumps({"figures": dict(FIGURES), "attacks": ATTACKS},
                                      indent=2))


@pytest.fixture
def app(wb):  # type: ignore[no-untyped-def]
    """The dashboard over ``wb`` (the UI tests' fixture), closed after the test."""
    from actorbench.ui import App

    a = App(wb)
    yield a
    a.close()
