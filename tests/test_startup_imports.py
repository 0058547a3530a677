"""What the dashboard's kernel imports to start: every page visit (and the preheat pool's
refill) pays for it on the machine the browser shares. pandas, numpy and requests are
imported when a page needs them (reports, a batch summary, RunPod), not at start."""

from __future__ import annotations

import subprocess
import sys

import pytest

import actorbench.training as training


def test_the_dashboard_starts_without_pandas_numpy_or_requests():
    out = subprocess.run(
        [sys.executable, "-c", "import sys, actorbench.ui, actorbench.cli; "
         "print(sorted(m for m in ('pandas', 'numpy', 'requests') if m in sys.modules))"],
        capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    assert out == "[]"


def test_training_names_are_there_when_asked_for():
    from actorbench.training import RunPodClient, TrainingParams, validate_dataset

    assert TrainingParams.__module__ == "actorbench.training.params"
    assert RunPodClient.__module__ == "actorbench.training.runpod"
    assert callable(validate_dataset)
    assert set(training.__all__) == set(training._WHERE) | {"GPU_PRICE_PER_S", "Estimate",
                                                            "estimate"}
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        training.Nope  # noqa: B018


def test_estimate_the_function_and_its_module_have_two_names():
    import actorbench.training.estimates as module

    assert callable(training.estimate) and training.estimate is module.estimate


def test_the_runpod_client_brings_requests_when_made():
    out = subprocess.run(
        [sys.executable, "-c", "import sys; from actorbench.training import RunPodClient; "
         "c = RunPodClient('http://127.0.0.1:9', 'e', 'k'); "
         "print(type(c.session).__module__, 'requests' in sys.modules)"],
        capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    assert out == "requests.sessions True"
