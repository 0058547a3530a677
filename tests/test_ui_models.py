"""Page models (state, validation, reset), work off the UI thread with visible errors, one
status palette, one job-status enum, one error describer."""

from __future__ import annotations

import errno
import json

import pandas as pd
import pytest
import traitlets as t

from actorbench.errors import ActorbenchError, describe_error
from actorbench.fsutil import atomic_write_json
from actorbench.present.palette import IMAGE, JOB_TONE, job_swatch, status_css
from actorbench.sync.plan import IN_S3, OWED_TO_S3, ImageStatus
from actorbench.sync.summary import SyncSummary, transferred_verb
from actorbench.training import JobStatus, TrainingParams, TrainingVersion, VersionStore
from actorbench.ui.mvc import PageModel, run_in_background
from actorbench.ui.pages.batch.model import BatchModel
from actorbench.ui.pages.cache.model import CacheModel
from actorbench.ui.pages.library.model import LibraryModel
from actorbench.ui.pages.reports.model import ReportsModel
from actorbench.ui.pages.training.model import TrainingModel
from actorbench.ui.pages.training_data.model import TrainingDataModel
from actorbench.ui.state import AppState
from tests.helpers import png, put_remote
from tests.hostile import PAYLOAD, assert_inert
from tests.single_backend import backend  # noqa: F401 - one backend here

A = "0001_european_30_female"
FEMALES = ("0001_european_30_female", "0003_east_asian_22_female")


# -- page models: validation and reset ---------------------------------------------------------
def test_library_model_validates_the_age_range_and_resets(wb):
    m = LibraryModel(AppState(wb))
    m.age = (90, 10)  # out of range and upside down
    assert m.age == (18, 80)
    m.age = (40, 30)
    assert m.age == (30, 40)
    with pytest.raises(t.TraitError, match="validated"):
        m.validated = "maybe"
    m.gender, m.text, m.error = "female", "european", "boom"  # aged 30: within (30, 40)
    assert m.results == ["0001_european_30_female"]
    m.reset()
    assert (m.text, m.gender, m.age, m.error) == ("", "Any", (18, 80), "")
    assert len(m.results) == 3


def test_training_data_model_validates_selection_and_direction():
    m = TrainingDataModel()
    m.selected = [3, 1, 3]
    assert m.selected == [1, 3]
    with pytest.raises(t.TraitError, match="negative"):
        m.selected = [-1]
    with pytest.raises(t.TraitError, match="pull or a push"):
        m.syncing = "sideways"
    m.syncing, m.message = "pull", "4 downloaded"
    m.reset()
    assert (m.selected, m.message, m.error) == ([], "", "")


def test_batch_picks_survive_filter_changes_and_are_listed(wb):
    m = BatchModel(AppState(wb))
    assert len(m.names) == 3 and m.picks_text() == "No actor picked."
    m.selected = ("0002_african_45_male", "0001_european_30_female")
    assert m.selected == ("0001_european_30_female", "0002_african_45_male")  # library order
    m.filter = "female"
    assert tuple(m.names) == FEMALES
    assert m.selected == ("0001_european_30_female", "0002_african_45_male")  # kept, hidden
    assert m.shown == ("0001_european_30_female",) and m.hidden == ("0002_african_45_male",)
    assert m.picks_text() == "2 actors picked: 0001, 0002 (1 hidden by the filters)."
    m.choose_shown(("0003_east_asian_22_female",))  # the list's choice: 0001 off, 0003 on
    assert m.selected == ("0002_african_45_male", "0003_east_asian_22_female")
    m.filter = ""
    assert m.shown == m.selected and m.picks_text() == "2 actors picked: 0002, 0003."
    with pytest.raises(t.TraitError, match="not actors of the library"):
        m.selected = ("9999_nobody",)
    m.reset()
    assert (m.filter, m.selected, len(m.names)) == ("", (), 3)


def test_batch_facet_filters_use_the_library_query(wb):
    m = BatchModel(AppState(wb))
    m.gender = "female"
    assert tuple(m.names) == FEMALES
    m.gender, m.age_band = "Any", "40-49"
    assert m.names == ["0002_african_45_male"]
    m.age_band, m.ethnicity = "Any", "east_asian"
    assert m.names == ["0003_east_asian_22_female"]
    m.ethnicity, m.status = "Any", "no_data"
    assert set(m.names) == {a.name for a in wb.registry if not a.training_data}


def test_training_data_model_picks_by_index_range():
    m = TrainingDataModel()
    m.indices = [0, 1, 2, 3, 5, 8, 12]
    assert m.pick("0-3, 12") == "5 images picked." and m.selected == [0, 1, 2, 3, 12]
    assert m.pick("10-12,40") == "1 image picked; this actor has no image 10-11,40."
    assert m.selected == [12]
    with pytest.raises(ActorbenchError, match="'2-x' is not a list of images"):
        m.pick("2-x")
    assert m.selected == [12]  # a typo changes nothing
    m.invert()
    assert m.selected == [0, 1, 2, 3, 5, 8]
    m.select_all()
    assert m.selected == m.indices
    m.select_none()
    assert m.selected == [] and "every image" in m.pick("  ")


def test_cache_model_validates_the_actor_and_forgets_a_stale_confirmation():
    m = CacheModel()
    m.options = ["a", "b"]
    with pytest.raises(t.TraitError, match="no local files"):
        m.actor = "c"
    m.actor, m.pending = "a", {"deleted": 3}
    m.actor = "b"
    assert m.pending == {}  # a confirmation is for the actor it was asked about
    m.pending = {"deleted": 1}
    m.reset()
    assert (m.actor, m.pending) == ("", {})


def test_reports_model_validates_the_sort_column_and_resets():
    m = ReportsModel()
    with pytest.raises(t.TraitError):
        m.sort_by = "nonsense"
    m.sort_by, m.ascending, m.only_images, m.report = "actor", False, False, object()
    m.reset()
    assert (m.sort_by, m.ascending, m.only_images, m.report) == ("backed_up", True, True, None)


def test_training_model_follows_presets_validates_and_resets():
    m = TrainingModel()
    m.trigger = "ohwx_ana person"
    m.base_model = "sd15"
    assert (m.resolution, m.te_lr, m.trigger) == (512, 5e-5, "ohwx_ana person")
    p = TrainingParams.from_preset("flux1-dev", trigger_word="ohwx_bo person", repeats=17,
                                   gpu="H100")
    m.show(p)  # the preset of flux1-dev does not overwrite p's own values
    assert m.params() == p
    with pytest.raises(t.TraitError):
        m.base_model = "sd3"
    m.resolution, m.alpha, m.rank = 100, 64, 8
    with pytest.raises(ActorbenchError) as err:
        m.params()
    assert "resolution" in str(err.value) and "network_alpha" in str(err.value)
    m.reset()
    assert m.params() == TrainingParams.from_preset("sdxl")


def test_training_page_widgets_are_bound_to_its_model(app):
    page = app.page("Training")
    page.base_model.value = "sd15"
    assert page.model.resolution == page.resolution.value == 512
    page.model.repeats = 33
    assert page.repeats.value == 33
    page.model.reset()
    assert (page.base_model.value, page.resolution.value) == ("sdxl", 1024)


# -- off the UI thread, errors on the page -----------------------------------------------------
def test_run_in_background_shows_every_error_and_ends_idle():
    m = PageModel()
    results = []
    run_in_background(m, lambda: 42, on_done=results.append)
    assert m.wait_idle(10) and results == [42] and not m.busy

    def boom():
        raise KeyError("k")

    run_in_background(m, boom)
    m.wait_idle(10)
    assert m.error == "KeyError: 'k'" and "Traceback" in m.last_traceback
    run_in_background(m, lambda: 1, on_done=lambda _: boom())  # the callback fails too
    m.wait_idle(10)
    assert m.error == "KeyError: 'k'"
    m.reset()
    run_in_background(m, boom, on_error=lambda exc: m.show_error(f"handled {exc!r}"))
    m.wait_idle(10)
    assert m.error == "handled KeyError('k')" and not m.busy


def test_an_s3_call_that_fails_in_the_background_is_shown_on_the_page(app, wb):
    put_remote(wb, A, 0, png(0))
    wb.store.bucket = "bucket-that-does-not-exist"
    app.state.actor = A
    assert app.wait_idle(30)
    td = app.training_data
    assert "does not exist" in td.model.error and "ab-error" in td.errors.value
    assert "Status unavailable" in app.library.card.value  # the card still shows the actor
    cache = app.cache
    cache.model.options, cache.model.actor = [A], A
    cache.clear_button.click()  # the dry run lists S3 off the UI thread
    assert cache.model.wait_idle(30)
    assert "does not exist" in cache.errors.value and cache.model.pending == {}


def test_a_page_that_cannot_be_built_says_why_escaped(app, monkeypatch):
    import actorbench.ui.pages.reports.view as reports_page
    import actorbench.ui.pages.training.view as training_page

    def boom(state):
        raise RuntimeError(PAYLOAD)

    def missing(state):
        raise ImportError("No module named 'matplotlib'")

    monkeypatch.setattr(training_page, "TrainingView", boom)
    monkeypatch.setattr(reports_page, "ReportsView", missing)
    shown = app.page("Training")
    assert "The Training page could not be built: RuntimeError" in shown.value
    assert "ab-error" in shown.value and "ab-page-failed" in shown._dom_classes
    assert_inert(shown.value)
    holder = app.tabs.children[list(app.tabs.titles).index("Training")]
    assert holder.children == (shown,)
    assert "Training" in app.tabs.titles and "Reports" in app.tabs.titles  # never dropped
    assert "ImportError: No module named &#x27;matplotlib&#x27;" in app.page("Reports").value
    monkeypatch.undo()  # fixed: opening the tab again builds the page
    assert app.page("Training") is not shown and hasattr(app.page("Training"), "model")


# -- one name per concept ----------------------------------------------------------------------
def test_job_status_round_trips_through_the_stored_json_unchanged(wb):
    store = VersionStore(wb.layout)
    raw = [TrainingVersion.new(f"v{i}", "2026-01-01T00:00:00Z", {}, []).to_dict()
           for i in range(len(JobStatus) + 2)]
    for rec, status in zip(raw, [*(s.value for s in JobStatus), "SOMETHING_NEW", 7],
                           strict=True):
        rec["status"] = status
    atomic_write_json(store.path(1), {"versions": raw})
    before = store.path(1).read_bytes()
    versions = store.load(1)
    assert [type(v.status) for v in versions[:len(JobStatus)]] == [JobStatus] * len(JobStatus)
    assert [v.status for v in versions[-2:]] == ["SOMETHING_NEW", 7]  # kept as the file has it
    store.save(1, versions)
    assert store.path(1).read_bytes() == before
    assert json.loads(before)["versions"][0]["status"] == "IN_QUEUE"
    assert JobStatus.COMPLETED == "COMPLETED" and json.dumps(JobStatus.LOST) == '"LOST"'


def test_one_palette_for_badges_plots_and_job_statuses():
    import matplotlib.colors as mc

    from actorbench.reports.plots import COLORS, status_mix
    from actorbench.reports.tables import STATUS_COLS, CoverageReport
    from actorbench.ui.pages.training.rows import STATUS_CLASS
    from actorbench.ui.widgets.common import CSS

    assert set(IMAGE) == set(ImageStatus)
    for status, swatch in IMAGE.items():
        assert f".ab-status-{status.value} {{ background:{swatch.colour};" in CSS
        assert COLORS[status.value] == swatch.colour and swatch.label
    assert status_css() in CSS
    actors = pd.DataFrame([{"actor": "a", **{c: 1 for c in STATUS_COLS}}])
    empty = pd.DataFrame()
    fig = status_mix(CoverageReport(empty, actors, empty, {}))
    bars = {c.get_label(): c.patches[0] for c in fig.axes[0].containers}
    for swatch in IMAGE.values():  # the legend says the label; the bar has the colour
        assert bars[swatch.label].get_facecolor() == pytest.approx(mc.to_rgba(swatch.colour))
    assert set(JOB_TONE) == set(JobStatus)
    for job, tone in JOB_TONE.items():
        assert job_swatch(job).colour == IMAGE[tone].colour and job_swatch(job).label == job
        assert STATUS_CLASS[job] == tone.value


def test_one_in_s3_set_one_verb_one_error_describer():
    assert not IN_S3 & OWED_TO_S3
    assert transferred_verb("pull") == "downloaded" and transferred_verb("push") == "uploaded"
    assert "uploaded" in SyncSummary("a", "push", transferred=2).to_json()
    assert describe_error(ActorbenchError("Plain words.")) == "Plain words."
    assert describe_error(KeyError("x")) == "KeyError: 'x'"
    full = OSError(errno.ENOSPC, "No space left on device", "/data/.abtmp-123")
    assert describe_error(full) == "not written: No space left on device"
