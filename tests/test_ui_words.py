"""Words, not codes: counts, sizes, times, plurals, statuses and a sync's progress label."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest

from actorbench.present.progress import TransferMeter
from actorbench.present.words import (
    bytes_pair,
    duration,
    human_bytes,
    image_status_word,
    job_status_word,
    library_status_word,
    percent,
    plural,
    sentence,
    short_time,
)
from actorbench.sync.progress import ProgressEvent

MB = 1000 * 1000  # sizes are decimal, as ACTORBENCH_MIN_FREE reads them


def test_plurals():
    assert [plural(n, "actor") for n in (0, 1, 2)] == ["0 actors", "1 actor", "2 actors"]
    assert plural(1, "batch", "batches") == "1 batch" and plural(3, "batch", "batches") == \
        "3 batches"
    assert plural(287.0, "actor") == "287 actors"  # a count read from pandas is still whole


@pytest.mark.parametrize(("n", "text"), [
    (0, "0 B"), (512, "512 B"), (1000, "1 KB"), (1500, "1.5 KB"), (24 * MB, "24 MB"),
    (int(2.4 * MB), "2.4 MB"), (3 * 1000 * MB, "3 GB"), (5000 * 1000 * MB, "5 TB")])
def test_sizes(n, text):
    assert human_bytes(n) == text


def test_size_pairs_share_the_unit_of_the_total():
    assert bytes_pair(24 * MB, 40 * MB) == "24 / 40 MB"
    assert bytes_pair(500 * 1000, 2 * MB) == "0.5 / 2 MB"
    assert bytes_pair(100, 900) == "100 / 900 B"


def test_durations_and_percentages():
    assert [duration(s) for s in (0, 2.2, 59, 125, 3600, 3900)] == [
        "0 s", "3 s", "59 s", "2 min", "1 h", "1 h 5 min"]
    assert percent(0.755) == "76%" and percent(1) == "100%"
    assert percent(float("nan")) == "—" and percent(None) == "—"


def test_short_local_times():
    cet = timezone(timedelta(hours=1))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert short_time("2026-11-22T13:05:00+00:00", cet, now) == "22 Nov 14:05"
    assert short_time("2026-11-22T13:05:00Z", cet, now) == "22 Nov 14:05"
    assert short_time("2025-01-02T03:04:05", UTC, now) == "2 Jan 2025 03:04"  # naive: UTC
    assert short_time(pd.Timestamp("2026-03-01T10:00", tz="UTC"), UTC, now) == "1 Mar 10:00"
    assert short_time(None) == short_time(pd.NaT) == short_time(float("nan")) == ""
    assert short_time("yesterday-ish") == "yesterday-ish"  # an edited record: shown as it is


def test_statuses_in_words():
    assert image_status_word("s3_only") == "S3 only"
    assert image_status_word("local_modified") == "Modified locally"
    assert [library_status_word(s) for s in ("synced", "not_synced", "no_data")] == [
        "Synced", "Not synced yet", "No images yet"]
    assert job_status_word("IN_PROGRESS") == "In progress"
    assert job_status_word("TIMED_OUT") == "Timed out"
    assert job_status_word(7) == "7" and job_status_word("NEW_THING") == "NEW_THING"
    assert sentence("download 12, keep 1 conflict (both sides)") == \
        "download 12 and keep 1 conflict (both sides)"
    assert sentence("upload 3") == "upload 3"


def test_progress_label_counts_files_bytes_rate_and_time_left():
    clock = [100.0]
    meter = TransferMeter(clock=lambda: clock[0])
    assert meter.label() == ""
    meter.update(ProgressEvent("plan", "a", files_total=20, bytes_total=40 * MB))
    assert meter.label() == "0 / 20 files · 0 / 40 MB"
    for _ in range(12):
        meter.update(ProgressEvent("file", "a"))
    meter.update(ProgressEvent("bytes", "a", nbytes=24 * MB))
    clock[0] = 103.0  # 24 MB in 3 s
    assert meter.label() == "12 / 20 files · 24 / 40 MB · 8 MB/s · 2 s left"
    meter.update(ProgressEvent("bytes", "a", nbytes=-4 * MB))  # a retry takes bytes back
    assert meter.label().startswith("12 / 20 files · 20 / 40 MB")
    meter.update(ProgressEvent("bytes", "a", nbytes=20 * MB))
    for _ in range(8):
        meter.update(ProgressEvent("file", "a"))
    clock[0] = 105.0
    meter.update(ProgressEvent("done", "a"))
    clock[0] = 500.0  # finished: the rate stays the sync's own, nothing is left
    assert meter.label() == "20 / 20 files · 40 / 40 MB · 8 MB/s"
    one = TransferMeter()
    one.update(ProgressEvent("plan", "a", files_total=1, bytes_total=100))
    assert one.label() == "0 / 1 file · 0 / 100 B"
    meter.reset()
    assert meter.label() == ""
