"""The composition root: settings -> registry, layout, store, sync engine."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from .actors.registry import Registry
from .settings import Settings
from .storage.base import ObjectStore
from .storage.layout import Layout
from .sync.config import SyncConfig
from .sync.engine import SyncEngine

if TYPE_CHECKING:
    from .team.shared import Team


class Workbench:
    """Everything a page or a command needs, built once from ``Settings``.

    Usage::

        wb = Workbench(Settings.from_env())
        wb.engine.pull(["0002_european_35_female"])
    """

    def __init__(self, settings: Settings, client: Any | None = None,
                 store: ObjectStore | None = None) -> None:
        """``client`` (a boto3 S3 client) or ``store`` (any ``ObjectStore``) replace what the
        settings would build; tests pass a server's client or a ``MemoryStore``."""
        self.settings = settings
        self._client = client
        if store is not None:
            self.__dict__["store"] = store

    @cached_property
    def layout(self) -> Layout:
        return Layout(self.settings.data_dir, self.settings.prefix)

    @cached_property
    def registry(self) -> Registry:
        if self.team is not None:  # actors.json is the team's cache: refreshed on each read
            self.team.registry.refresh(self.settings.registry_path)
        return Registry.load(self.settings.registry_path)

    @cached_property
    def team(self) -> Team | None:
        """Team mode's shared records (``ACTORBENCH_TEAM=1``), once the server has shown it
        refuses stale writes; None when team mode is off."""
        if not self.settings.team:
            return None
        from .team.shared import Team

        return Team.open(self.settings, self.store, self.layout)

    @cached_property
    def client(self) -> Any:
        from .storage.client import make_s3_client

        return self._client or make_s3_client(self.settings, attempts=1)  # S3Store retries

    @cached_property
    def store(self) -> ObjectStore:
        """The lean store when static keys are set and it can honour every setting (fast
        path), else boto3's full chain (``storage.net.store_kind``)."""
        from .storage.net import store_kind

        s = self.settings
        if self._client is None and store_kind(s) == "lean":
            return lean_store(s)
        from .storage.store import S3Store

        return S3Store(self.client, s.bucket)

    @cached_property
    def sync_config(self) -> SyncConfig:
        s = self.settings
        return SyncConfig(workers=s.workers, connections=s.connections, min_free=s.min_free)

    @cached_property
    def engine(self) -> SyncEngine:
        return SyncEngine(self.store, self.layout, self.registry, region=self.settings.region,
                          config=self.sync_config)

    def reload_registry(self) -> Registry:
        self.__dict__.pop("registry", None)
        self.__dict__.pop("engine", None)
        return self.registry


def lean_store(s: Settings) -> ObjectStore:
    """The urllib3 + SigV4 store (static keys only)."""
    from .errors import CredentialsError
    from .storage.lean import LeanS3Store

    if not (s.access_key and s.secret_key):
        raise CredentialsError()
    from .storage.net import Proxies

    return LeanS3Store(s.endpoint_url, s.region, s.bucket, s.access_key, s.secret_key,
                       s.session_token, pool_size=s.workers + 4, connections=s.connections,
                       ca_bundle=s.ca_bundle, proxies=Proxies.from_settings(s))
