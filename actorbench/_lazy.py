"""Names imported on first use (PEP 562): the one helper behind every lazy package.

Usage::

    __getattr__, __dir__ = lazy(__name__, {"S3Store": ".store", "open": "actorbench.notebook"})

A package keeps start-up cheap (the CLI and the dashboard's kernel do not pay for pandas, boto3
or requests they may not need) and still answers ``from package import Name``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from importlib import import_module
from typing import Any


def lazy(package: str, where: Mapping[str, str], eager: Iterable[str] = ()
         ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``where`` maps a public name to the
    module defining it (absolute, or relative as ``.module``); ``eager`` are names already bound.

    A found value is stored in the package's namespace, so later lookups skip ``__getattr__``.
    """
    import sys

    names = sorted({*where, *eager})

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module, package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return names

    return __getattr__, __dir__
