"""The dashboard shows what the faces package finds: each trained version's likeness on the
Training page (measured off the UI thread; scores stubbed here, the real scoring is
tests/test_faces_versions.py); each Library card's identity health and the "needs attention"
filter, from the cached analyses only (made up here: the real analysis is tests/test_faces.py)."""

from __future__ import annotations

from typing import Any

import pytest

from actorbench.faces import CheckpointScore, SampleScore, VersionScore
from actorbench.faces.identity import ActorFaces, ImageReport, Reference
from actorbench.training import TrainingService
from actorbench.training.status import JobStatus
from actorbench.training.versions import TrainingVersion
from tests.helpers import wait_until
from tests.single_backend import backend  # noqa: F401 - one backend here

A = "0001_european_30_female"


def _version(name: str, steps: tuple[int, ...]) -> TrainingVersion:
    v = TrainingVersion.new(name, "2026-11-22T14:05:00+00:00", {"base_model": "sd15"}, [])
    v.status = JobStatus.COMPLETED
    v.samples = [{"step": s, "prompt": f"<b>{name}</b>", "url": f"s3://elsewhere/{name}_{s}.png"}
                 for s in steps]
    return v


def _score(v: TrainingVersion, by_step: dict[int, float], faces: int = 1) -> VersionScore:
    d = {s: (1 - like) * 1.2 for s, like in by_step.items()}  # likeness = 1 - d / 1.2
    samples = tuple(SampleScore(s, "u", "p", faces, d[s]) for s in by_step)
    cps = tuple(CheckpointScore(s, like, float(faces == 1), 1) for s, like in by_step.items())
    return VersionScore(v.id, v.name, samples, cps)


@pytest.fixture
def two_versions(app, wb):  # type: ignore[no-untyped-def]
    good, poor = _version("v1", (750, 1500)), _version("v2", (200, 400))
    TrainingService(wb).versions.save(1, [good, poor])
    return good, poor


def _ident(photographic: bool = True) -> ActorFaces:
    ref = Reference((0.0,) * 128, "base", f"{A}_base") if photographic else None
    painted = ImageReport(f"{A}_0.png", 0, (), None, None, None, None, None, None, None)
    return ActorFaces(A, ref, (painted,))


def test_versions_table_shows_likeness_and_the_suggestion_measured_off_the_ui_thread(
        app, wb, two_versions, monkeypatch):  # type: ignore[no-untyped-def]
    import threading

    from actorbench.faces import service
    from actorbench.training import likeness

    good, poor = two_versions
    threads: list[str] = []

    def scored(layout: Any, store: Any, actor: str, versions: list[TrainingVersion]) -> Any:
        threads.append(threading.current_thread().name)
        assert {v.id for v in versions} == {good.id, poor.id} and actor == A
        return (_ident(), [_score(good, {750: 0.62, 1500: 0.71}),
                           _score(poor, {200: 0.30, 400: 0.35})], (good.id, 1500))

    monkeypatch.setattr(likeness, "version_likeness", scored)
    monkeypatch.setattr(service, "probe_then_judge", lambda *a, **k: _ident())
    app.state.actor = A
    page = app.page("Training")
    panel = page.panel
    wait_until(lambda: "71%" in page.versions_table.value)
    page.model.wait_idle()
    assert threads == ["actorbench-likeness"]  # once, and not on the UI thread
    table = page.versions_table.value
    assert "<th>likeness</th>" in table
    assert "71%</b> at step 1500 · one face in 100%" in table
    assert "35%</b> at step 400" in table
    assert table.count("suggested, not marked") == 1
    assert "Suggested: v1 at step 1500 (suggested, not marked" in panel.likeness_line.value
    assert f"{A}_base" in panel.likeness_line.value
    assert not any(v.isGood for v in TrainingService(wb).versions.load(1))  # never marked
    # the compare view: the two versions' scores side by side
    compare = panel.compare.value
    assert "ab-compare-likeness" in compare
    assert "<th>v1</th><th>v2</th>" in compare  # the older left
    assert "71% at step 1500" in compare and "35% at step 400" in compare
    assert "step 750: 62%, step 1500: 71%" in compare
    # a redraw of the same versions (a poll) measures nothing again
    page.render_versions(TrainingService(wb).versions.load(1))
    page.model.wait_idle()
    assert threads == ["actorbench-likeness"]


def test_without_the_extra_or_a_reference_one_line_says_so(app, wb, two_versions,
                                                             monkeypatch):  # type: ignore[no-untyped-def]
    from actorbench.faces import models
    from actorbench.training import likeness

    monkeypatch.setattr(likeness, "version_likeness",  # (a painted set: the probe says so)
                        lambda *a, **k: (_ident(photographic=False), [], None))
    app.state.actor = A
    page = app.page("Training")
    wait_until(lambda: "no photographic faces" in page.panel.likeness_line.value)
    page.model.wait_idle()
    assert "%</b>" not in page.versions_table.value
    assert "no photographic faces" in page.panel.compare.value
    assert page.model.error == ""

    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
    app.state.actor = "0002_african_45_male"  # and back: measured again
    page.model.wait_idle()
    app.state.actor = A
    wait_until(lambda: "pip install" in page.panel.likeness_line.value)
    assert page.panel.likeness_line.value.count("Likeness not measured") == 1
    assert "%</b>" not in page.versions_table.value


# -- the Library: identity health from the cache ----------------------------------------------
def _analysed(wb, actor: str, descriptors: list[float]) -> None:  # type: ignore[no-untyped-def]
    """Training images of ``actor`` and a cache as an analysis leaves it: one face each,
    large and sharp, its descriptor ``(d, 0, 0, ...)``; no analysis runs."""
    from actorbench.faces import Face, ImageFaces
    from actorbench.faces.cache import FaceCache, cache_path
    from tests.helpers import png, write_local

    cache = FaceCache(cache_path(wb.layout.actor_dir(actor)))
    marks = ((400.0, 400.0), (470.0, 400.0), (600.0, 400.0), (530.0, 400.0), (500.0, 520.0))
    for i, d in enumerate(descriptors):
        path = write_local(wb, actor, i, png(i))
        face = Face((300, 200, 700, 600), marks, (d,) + (0.0,) * 127, 300.0)
        cache.put(path, ImageFaces(f"md5-{actor}-{i}", 1000, 1000, (face,)))
    cache.save()


def test_library_cards_show_identity_health_and_filter_those_needing_attention(
        app, wb, monkeypatch):  # type: ignore[no-untyped-def]
    import importlib

    analysis = importlib.import_module("actorbench.faces.analyse")

    B, C = "0002_african_45_male", "0003_east_asian_22_female"
    _analysed(wb, A, [0.0, 0.05, 0.1, 0.9])  # the last: another person (distance > 0.6)
    _analysed(wb, B, [0.0, 0.05, 0.1])
    lib = app.library
    calls: list[object] = []
    # nothing is analysed to draw a card or filter: the caches are read
    monkeypatch.setattr(analysis, "analyse", lambda *a, **k: calls.append(a))
    lib.gallery.render()
    cards = lib.gallery.cards.value
    assert "needs attention: 3 of 4 fit" in cards and "ab-identity-attention" in cards
    assert "👤 3 of 3 fit" in cards and "ab-identity-ok" in cards
    assert cards.count("ab-identity ") == 2  # C: never analysed, nothing said
    lib.identity.value = "attention"
    assert lib.model.results == [A] and not lib.clear_button.disabled
    lib.clear_button.click()
    assert lib.identity.value == "Any" and C in lib.model.results
    # a picture changed since its analysis: not counted until it is analysed again
    import os

    p = wb.layout.image_path(A, 3)
    os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 10**9))
    lib.identity.value = "attention"
    assert lib.model.results == []
    lib.clear_button.click()
    assert "4 of 4 fit" not in lib.gallery.cards.value
    assert "3 of 3 fit (1 not analysed yet)" in lib.gallery.cards.value
    app.state.actor = B  # the chosen actor's card says it too
    lib.model.wait_idle()
    assert "👤 3 of 3 fit" in lib.card.value and "ab-identity-ok" in lib.card.value
    assert calls == []


# -- the Reports page: the identity tab ---------------------------------------------------------
def test_reports_identity_tab_tabulates_the_cached_analyses_and_scored_versions(
        app, wb, two_versions):  # type: ignore[no-untyped-def]
    from actorbench.faces import Face, ImageFaces
    from actorbench.faces.samples import SAMPLES_CACHE, SampleCache

    good, poor = two_versions
    _analysed(wb, A, [0.0, 0.05, 0.1, 0.9])
    samples = SampleCache(wb.layout.actor_dir(A) / SAMPLES_CACHE)
    marks = ((400.0, 400.0), (470.0, 400.0), (600.0, 400.0), (530.0, 400.0), (500.0, 520.0))
    for s in good.samples:  # v1's samples analysed (as the Training page leaves them)
        face = Face((300, 200, 700, 600), marks, (0.06,) + (0.0,) * 127, 300.0)
        samples.items[s["url"]] = ImageFaces("m", 1000, 1000, (face,))
    samples.dirty = True
    samples.save()
    reports = app.page("Reports")
    reports.build_button.click()
    reports.worker.wait()
    assert reports.errors.value == ""
    assert list(reports.sections.titles) == ["Library", "Training", "Identity"]
    panel = reports.identity
    assert "1 actor" in panel.summary.value and "1</b> need attention" in panel.summary.value
    row = panel.actors.value
    assert A in row and "<th>Other person?</th>" in row
    assert '<td class="ab-col-fit">3</td>' in row and '<td class="ab-col-outliers">1</td>' in row
    assert "no profile" in row
    versions = panel.versions.value
    assert "v1" in versions and "v2" not in versions  # v2's samples never analysed: not shown
    assert '<td class="ab-col-best-step">1500</td>' in versions  # a tie: the later step
    assert panel.plot.layout.display == "block" and bytes(panel.plot.value)[:4] == b"\x89PNG"


def test_reports_identity_tab_without_any_analysis_says_what_to_do(app, wb):  # type: ignore[no-untyped-def]
    from tests.helpers import png, write_local

    write_local(wb, A, 0, png(0))  # (an image, never analysed)
    reports = app.page("Reports")
    reports.build_button.click()
    reports.worker.wait()
    assert "No face analysis yet" in reports.identity.summary.value
    assert reports.identity.plot.layout.display == "none"
