"""``actorbench.__all__``: sorted, every name importable, and ``import actorbench`` stays light."""

from __future__ import annotations

import subprocess
import sys

import actorbench


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert actorbench.__all__ == sorted(actorbench.__all__)
    assert len(set(actorbench.__all__)) == len(actorbench.__all__)
    for name in actorbench.__all__:
        assert getattr(actorbench, name) is not None, name
    assert set(dir(actorbench)) == set(actorbench.__all__)


def test_import_is_light() -> None:
    code = ("import sys, actorbench; heavy = [m for m in ('pandas', 'boto3', 'ipywidgets', "
            "'matplotlib') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == ""
