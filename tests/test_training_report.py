"""The training tab's figures equal a hand count over a ledger made here; estimates calibrate
from past runs."""

from __future__ import annotations

import pytest

from actorbench.reports.training import build_training_report, calibration
from actorbench.training import TrainingParams
from actorbench.training.estimates import GPU_PRICE_PER_S, estimate
from actorbench.training.status import JobStatus
from actorbench.training.versions import TrainingVersion


def v(name: str, status: JobStatus, exec_ms: int | None, est_usd: float, gpu: str = "L40S",
      steps: int = 1000, model: str = "sdxl", good: bool = False) -> TrainingVersion:
    out = TrainingVersion.new(name, "2026-11-22T10:00:00+00:00",
                              {"base_model": model, "max_train_steps": steps, "gpu": gpu,
                               "resolution": 1024, "batch_size": 1}, [])
    out.status, out.isGood = status, good
    out.estimate = {"seconds": 900, "cost_usd": est_usd, "gpu": gpu}
    if exec_ms is not None:
        out.timings = {"execution_ms": exec_ms, "delay_ms": 4000}
    return out


LEDGERS = {
    "0001_a_30_female": [v("v1", JobStatus.FAILED, 60_000, 0.50),
                         v("v2", JobStatus.COMPLETED, 890_000, 0.50, good=True)],
    "0002_b_40_male": [v("v1", JobStatus.COMPLETED, 1_090_000, 0.60),
                       v("v2", JobStatus.IN_PROGRESS, None, 0.60),
                       v("v3", JobStatus.CANCELLED, 30_000, 0.60)],
    "0003_c_22_female": [],
}


def test_training_tab_matches_a_hand_count() -> None:
    r = build_training_report(LEDGERS)
    price = GPU_PRICE_PER_S["L40S"]
    # by hand: 5 versions; completed 2 (0001 v2, 0002 v1); failed 1 (0001 v1)
    assert r.totals["versions"] == 5 and r.totals["completed"] == 2 and r.totals["failed"] == 1
    assert r.totals["success_rate"] == pytest.approx(2 / 3)
    billed = (60 + 890 + 1090 + 30) * price  # every job RunPod reported time for
    assert r.totals["cost_usd"] == pytest.approx(billed, abs=1e-3)
    a = r.actors.loc["0001_a_30_female"]
    assert (a["versions"], a["completed"], a["failed"]) == (2, 1, 1)
    assert a["success_rate"] == pytest.approx(0.5)
    assert a["cost_usd"] == pytest.approx((60 + 890) * price, abs=1e-3)
    b = r.actors.loc["0002_b_40_male"]
    assert (b["versions"], b["completed"], b["failed"]) == (3, 1, 0)
    assert b["success_rate"] == pytest.approx(1.0)
    measured_est = 0.50 + 0.50 + 0.60 + 0.60  # versions with both an estimate and a bill
    assert r.totals["estimate_vs_actual"] == pytest.approx(billed / measured_est, abs=1e-3)
    assert "0003_c_22_female" not in r.actors.index  # no versions, no row
    assert list(r.versions["user"].isna()) == [True] * 5


def test_estimates_calibrate_from_past_runs() -> None:
    cal = calibration([x for vs in LEDGERS.values() for x in vs])
    # completed sdxl/L40S runs: (890 - 90) / 1000 and (1090 - 90) / 1000 -> median 0.9
    assert cal == {("sdxl", "L40S"): (pytest.approx(0.9), 2)}
    p = TrainingParams.from_preset("sdxl", max_train_steps=2000, batch_size=1, gpu="L40S")
    table, measured = estimate(p), estimate(p, calibration=cal)
    assert measured.sec_per_step == pytest.approx(0.9) and measured.calibrated_runs == 2
    assert measured.seconds == pytest.approx(90 + 0.9 * 2000)
    assert table.calibrated_runs == 0 and "rough" in table.describe()
    assert "calibrated from 2 past runs" in measured.describe()
