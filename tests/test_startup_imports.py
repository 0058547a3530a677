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


#: what the CLI's status (a plan: a listing and a look at the disk) never needs
NOT_FOR_STATUS = ("pandas", "boto3", "botocore", "PIL", "numpy", "ipywidgets", "pydantic",
                  "requests", "aiohttp", "actorbench.faces", "actorbench.sync.apply",
                  "actorbench.sync.transfer")
_RUN_CLI = ("import sys\nfrom actorbench.cli import main\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit:\n    pass\nsys.stdout.flush()\n"
            "print('\\nIMPORTED', sorted(m for m in {names!r} if m in sys.modules))")


def _cli_imports(args: list[str], env: dict[str, str] | None = None) -> tuple[str, str]:
    import os

    code = _RUN_CLI.format(names=NOT_FOR_STATUS)
    run = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         timeout=120, check=True, env={**os.environ, **(env or {})})
    out, _, imported = run.stdout.rpartition("\nIMPORTED ")
    return out, imported.strip()


def test_status_help_imports_none_of_the_heavy_modules():
    out, imported = _cli_imports(["status", "--help"])
    assert "usage: actorbench status" in out
    assert imported == "[]"


def test_status_plans_without_the_heavy_modules_or_the_apply_step(rclone_server, tmp_path):
    """A whole-process ``actorbench status ACTOR`` (issue 27 item 7): the plan-only path."""
    import json

    from tests.conftest import one_actor_workbench

    wb, actor = one_actor_workbench(rclone_server, tmp_path)
    wb.store.put_bytes(wb.layout.image_key(actor, 1), b"\x89PNG\r\n\x1a\nnot really")
    env = {"ACTORBENCH_DATA_DIR": str(wb.settings.data_dir),
           "ACTORBENCH_BUCKET": wb.settings.bucket, **rclone_server.env,
           **{k: v for k, v in rclone_server.extra.items() if isinstance(v, str)}}
    out, imported = _cli_imports(["status", actor, "--json"], env)
    assert json.loads(out)["actor"] == actor and len(json.loads(out)["images"]) == 1
    assert imported == "[]"


def test_the_lazy_sync_package_still_gives_every_name():
    import actorbench.sync as sync

    assert set(dir(sync)) == set(sync.__all__)
    for name in sync.__all__:
        assert getattr(sync, name) is not None, name
    from actorbench.sync import SyncEngine, conflict_path

    assert SyncEngine.__module__ == "actorbench.sync.engine" and callable(conflict_path)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        sync.Nope  # noqa: B018


def test_sync_decide_is_the_function_whichever_module_is_imported_first():
    out = subprocess.run(
        [sys.executable, "-c", "import actorbench.sync.plan, actorbench.sync.decide as m; "
         "from actorbench.sync import Action, decide; import actorbench.sync as s; "
         "print(callable(decide), type(s.decide).__name__, Action.__module__)"],
        capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    assert out == "True function actorbench.sync.decide"
