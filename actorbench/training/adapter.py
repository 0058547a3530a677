"""Fit actorbench's job to another worker: an adapter named by a setting.

``ACTORBENCH_RUNPOD_ADAPTER=my_pkg.my_module:adapter`` names an object (a module, a class or an
instance) with two functions:

- ``to_input(job: dict) -> dict``: actorbench's job (``worker/contract.py`` ``INPUT``) as the
  other worker's ``input``;
- ``from_output(output: dict) -> dict``: the other worker's ``output`` (or progress document)
  as actorbench's (``OUTPUT`` / ``PROGRESS``: ``lora_url``, ``stage``, ``step`` ...).

Without the setting both are the identity: the reference worker (``worker/``) speaks the
contract itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from ..errors import ConfigError

#: the job contract actorbench sends and expects (docs/runpod-worker.md, worker/contract.py)
CONTRACT = "actorbench.lora/1"
#: the same job whose images carry their ``caption`` (plain text, the trigger first, at most
#: 1000 characters); a worker that knows only /1 refuses it instead of ignoring the captions
CONTRACT_CAPTIONS = "actorbench.lora/2"


@dataclass(frozen=True)
class Adapter:
    spec: str = ""
    target: Any = None

    def to_input(self, job: dict[str, Any]) -> dict[str, Any]:
        return _call(self, "to_input", job)

    def from_output(self, output: Any) -> Any:
        if not isinstance(output, dict):
            return output
        return _call(self, "from_output", output)


def _call(adapter: Adapter, name: str, doc: dict[str, Any]) -> dict[str, Any]:
    if adapter.target is None:
        return doc
    out = getattr(adapter.target, name)(dict(doc))
    if not isinstance(out, dict):
        raise ConfigError(f"ACTORBENCH_RUNPOD_ADAPTER {adapter.spec}: {name} must return a "
                          f"dict, not {type(out).__name__}.")
    return out


def load_adapter(spec: str | None) -> Adapter:
    """The adapter ``module:attribute`` names, or the identity; a bad name is one clear error."""
    if not spec:
        return Adapter()
    module, _, attr = spec.partition(":")
    try:
        target: Any = import_module(module)
        for part in filter(None, attr.split(".")):
            target = getattr(target, part)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"ACTORBENCH_RUNPOD_ADAPTER={spec!r} cannot be loaded ({exc}): use "
                          "module:attribute, importable from the environment.") from None
    missing = [f for f in ("to_input", "from_output") if not callable(getattr(target, f, None))]
    if missing:
        raise ConfigError(f"ACTORBENCH_RUNPOD_ADAPTER={spec!r} has no {' or '.join(missing)}.")
    return Adapter(spec, target)
