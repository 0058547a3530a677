"""The composition root: settings -> registry, layout, store, sync engine."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from .actors.registry import Registry
from .settings import Settings
from .storage.base import ObjectStore
from .storage.layout import Layout
from .sync.engine import SyncEngine


class Workbench:
    """Everything a page or a command needs, built once from ``Settings``.

    Usage::

        wb = Workbench(Settings.from_env())
        wb.engine.pull(["0002_european_35_female"])
    """

    def __init__(self, settings: Settings, client: Any | None = None,
                 store: str | None = None) -> None:
        self.settings = settings
        self._client = client
        self._store_kind = store

    @cached_property
    def layout(self) -> Layout:
        return Layout(self.settings.data_dir, self.settings.prefix)

    @cached_property
    def registry(self) -> Registry:
        return Registry.load(self.settings.registry_path)

    @cached_property
    def client(self) -> Any:
        from .storage.client import make_s3_client

        return self._client or make_s3_client(self.settings)

    @cached_property
    def store(self) -> ObjectStore:
        """The lean store when static keys are set (fast path), else boto3's full chain."""
        s = self.settings
        kind = self._store_kind or ("boto3" if self._client is not None else s.s3_client)
        if kind == "auto":
            kind = "lean" if s.access_key and s.secret_key and not s.profile else "boto3"
        if kind == "lean":
            from .errors import CredentialsError
            from .storage.lean import LeanS3Store

            if not (s.access_key and s.secret_key):
                raise CredentialsError()
            return LeanS3Store(s.endpoint_url, s.region, s.bucket, s.access_key, s.secret_key,
                               s.session_token, pool_size=s.workers + 4,
                               connections=s.connections)
        from .storage.store import S3Store

        return S3Store(self.client, s.bucket)

    @cached_property
    def engine(self) -> SyncEngine:
        return SyncEngine(self.store, self.layout, self.registry, region=self.settings.region,
                          workers=self.settings.workers,
                          connections=self.settings.connections,
                          min_free=self.settings.min_free)

    def reload_registry(self) -> Registry:
        self.__dict__.pop("registry", None)
        self.__dict__.pop("engine", None)
        return self.registry
