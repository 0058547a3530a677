"""The composition root: settings -> registry, layout, store, sync engine."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from .actors.registry import Registry
from .settings import Settings
from .storage.client import make_s3_client
from .storage.layout import Layout
from .storage.store import S3Store
from .sync.engine import SyncEngine


class Workbench:
    """Everything a page or a command needs, built once from ``Settings``.

    Usage::

        wb = Workbench(Settings.from_env())
        wb.engine.pull(["0002_european_35_female"])
    """

    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self.settings = settings
        self._client = client

    @cached_property
    def layout(self) -> Layout:
        return Layout(self.settings.data_dir, self.settings.prefix)

    @cached_property
    def registry(self) -> Registry:
        return Registry.load(self.settings.registry_path)

    @cached_property
    def client(self) -> Any:
        return self._client or make_s3_client(self.settings)

    @cached_property
    def store(self) -> S3Store:
        return S3Store(self.client, self.settings.bucket)

    @cached_property
    def engine(self) -> SyncEngine:
        return SyncEngine(self.store, self.layout, self.registry, region=self.settings.region,
                          workers=self.settings.workers)

    def reload_registry(self) -> Registry:
        self.__dict__.pop("registry", None)
        self.__dict__.pop("engine", None)
        return self.registry
