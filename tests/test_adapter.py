"""ACTORBENCH_RUNPOD_ADAPTER: another worker's field names, without editing actorbench."""

from __future__ import annotations

import sys
import types

import pytest

from actorbench.errors import ConfigError
from actorbench.training.adapter import load_adapter


def test_identity_without_a_setting() -> None:
    a = load_adapter(None)
    assert a.to_input({"x": 1}) == {"x": 1} and a.from_output({"y": 2}) == {"y": 2}


def test_an_adapter_renames_fields(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    mod = types.ModuleType("their_worker")

    class Adapter:
        @staticmethod
        def to_input(job):  # type: ignore[no-untyped-def]
            return {"subject": job["actor"], "photos": [i["url"] for i in job["images"]]}

        @staticmethod
        def from_output(out):  # type: ignore[no-untyped-def]
            return {"lora_url": out["model"], "stage": "done"}

    mod.Adapter = Adapter  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "their_worker", mod)
    a = load_adapter("their_worker:Adapter")
    assert a.to_input({"actor": "a", "images": [{"url": "u"}]}) == {"subject": "a",
                                                                     "photos": ["u"]}
    assert a.from_output({"model": "s3://b/k"}) == {"lora_url": "s3://b/k", "stage": "done"}


@pytest.mark.parametrize("spec,needle", [("nope_module:x", "cannot be loaded"),
                                         ("json:dumps", "has no to_input or from_output"),
                                         ("json", "has no to_input")])
def test_a_bad_adapter_is_one_clear_error(spec: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_adapter(spec)
