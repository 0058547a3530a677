"""Markup in files and server answers is shown as text, never run; bad answers are refused."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import ipywidgets as w
import pandas as pd
import pytest

from actorbench.errors import ActorbenchError
from actorbench.generate import Img2ImgBackend, Img2ImgError
from actorbench.present.html import Html, css_class, esc, h, table
from actorbench.training import (
    RunPodClient,
    RunPodError,
    TrainingParams,
    TrainingService,
    TrainingVersion,
)
from actorbench.ui import App
from actorbench.ui.pages.training.rows import STATUS_CLASS, version_row
from actorbench.ui.widgets.common import error_html
from tests.helpers import put_remote
from tests.hostile import (
    BAD_NAMES,
    DATA_ACTOR,
    ID_ACTOR,
    MARK,
    PAYLOAD,
    assert_inert,
    plant,
    versions,
)
from tests.single_backend import backend  # noqa: F401 - one backend here
from tests.test_training import portrait

A = "0001_european_30_female"


# -- the helper -----------------------------------------------------------------------------
def test_the_inertness_check_catches_live_markup():
    for live in (PAYLOAD, f'<span class="{PAYLOAD}">', f"<td>{MARK}</td>",
                 '<a href="javascript:x">', "<img src=x>"):
        with pytest.raises(AssertionError):
            assert_inert(live)


def test_esc_h_and_table_escape_text_and_attributes():
    assert esc(PAYLOAD).count("&lt;") == PAYLOAD.count("<") and '"' not in esc(PAYLOAD)
    cell = h("td", PAYLOAD, cls=["ab-x"], title=PAYLOAD, data_index=3)
    assert cell.startswith('<td class="ab-x" title="&quot;&gt;&lt;img') and 'data-index="3"' in cell
    assert_inert(cell)
    assert h("tr", cell) == f"<tr>{cell}</tr>"  # markup made here is nested, not re-escaped
    box = h("input", type="checkbox", data_ab_target=PAYLOAD, checked=None)  # no end tag
    assert box.startswith('<input type="checkbox" data-ab-target="&quot;&gt;') and \
        box.endswith('">') and "</input>" not in box and "checked" not in box
    assert_inert(box)
    with pytest.raises(ValueError, match="takes no content"):
        h("img", PAYLOAD)
    assert isinstance(cell, Html) and esc(cell) is cell
    assert_inert(table(pd.DataFrame([{"actor": PAYLOAD, PAYLOAD: 1}])))
    assert_inert(error_html(PAYLOAD))


def test_class_names_come_from_a_known_set_only():
    assert css_class("ab-job", "COMPLETED", STATUS_CLASS) == "ab-job-completed"
    assert css_class("ab-job", PAYLOAD, STATUS_CLASS) == "ab-job-unknown"
    assert css_class("ab-job", "completed", STATUS_CLASS) == "ab-job-unknown"
    with pytest.raises(ValueError, match="plain"):
        h("td", "x", cls='a" onclick="x')
    with pytest.raises(ValueError, match="plain"):
        h("img src=x", "x")


def test_version_row_shows_a_hostile_record_as_text():
    for raw in versions():
        row = version_row(TrainingVersion.from_dict(raw))
        assert_inert(row)
    row = version_row(TrainingVersion.from_dict(versions()[0]))
    assert esc(MARK) in row and "ab-job-unknown" in row and "ab-status-missing" in row
    odd = TrainingVersion.from_dict({**versions()[0], "parameters": PAYLOAD, "status": 7})
    assert_inert(version_row(odd))


# -- every page, in process, over the hostile library ----------------------------------------
def html_values(widget: w.Widget) -> Iterator[str]:
    if isinstance(widget, w.HTML | w.HTMLMath):
        yield widget.value
    for child in getattr(widget, "children", ()):
        yield from html_values(child)


def test_every_page_shows_hostile_files_as_text(wb):
    plant(wb)
    app = App(wb)
    try:
        app.state.actor = ID_ACTOR  # its id is markup: no record file can be named after it
        training = app.page("Training")
        training.model.wait_idle()  # the actor's records are read off the UI thread
        shown = list(html_values(app))
        assert any(esc(MARK) in v for v in shown)  # the id on the Library card
        assert "cannot name a file" in training.errors.value
        app.state.actor = DATA_ACTOR
        training.model.wait_idle()
        training.poller.wait(30)
        assert "Lost" in training.versions_table.value  # the markup job id was never sent
        registry = wb.settings.registry_path.read_text()
        training.good_button.click()  # v2's lora_url is javascript:
        assert "is not an http(s) or s3 URL" in training.errors.value
        assert wb.settings.registry_path.read_text() == registry
        reports = app.page("Reports")
        reports.build()
        reports.worker.wait()
        batch = app.batch
        batch.actors.value = (DATA_ACTOR,)
        batch.pull_button.click()
        batch.worker.wait()
        app.cache.refresh()
        app.page("Training Data")
        app.wait_idle()  # the pages' S3 listings run off the UI thread
        shown = list(html_values(app))
        for value in shown:
            assert_inert(value)
        assert esc(MARK) in training.versions_table.value
        for name in BAD_NAMES:  # listed on the Training Data page as not training images
            assert any(esc(name) in v for v in shown)
        assert "9901_hostile_30_female" in reports.table.value and "downloaded" in \
            batch.summary.value
    finally:
        app.close()


# -- RunPod answers are checked before anything is stored ------------------------------------
class Hostile:
    """A loopback server answering whatever ``answers[(method, op)]`` holds."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], tuple[int, Any]] = {}
        self.seen: list[str] = []
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _answer(self, method: str) -> None:
                hostile.seen.append(f"{method} {self.path}")
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path.strip("/").split("/")
                key = (method, parts[-1] if len(parts) == 3 else parts[-2])
                code, body = hostile.answers.get(key, (404, {"error": "no"}))
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def client(self) -> RunPodClient:
        return RunPodClient(self.url + "/v2", "e", "k", sleep=lambda s: None, attempts=1)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hostile():
    server = Hostile()
    yield server
    server.stop()


@pytest.mark.parametrize(("answer", "message"), [
    ({"id": PAYLOAD, "status": "IN_QUEUE"}, "job id"),
    ({"id": "../status/x", "status": "IN_QUEUE"}, "job id"),
    ({"id": 42}, "job id"),
    ({"id": "job-1", "status": PAYLOAD}, "unknown state"),
])
def test_run_answer_is_checked(hostile, answer, message):
    hostile.answers[("POST", "run")] = (200, answer)
    with pytest.raises(RunPodError, match=message):
        hostile.client().run({"actor": A}, 600000)


GOOD = {"id": "job-1", "status": "IN_PROGRESS", "delayTime": 5, "executionTime": 10}


@pytest.mark.parametrize(("answer", "message"), [
    ({**GOOD, "status": PAYLOAD}, "unknown state"),
    ({**GOOD, "id": "job-2"}, "another job"),
    ({**GOOD, "delayTime": PAYLOAD}, "delayTime is not a non-negative number"),
    ({**GOOD, "executionTime": -1}, "executionTime"),
    ({**GOOD, "executionTime": True}, "executionTime"),
    ({**GOOD, "output": {"progress": PAYLOAD}}, "progress is not a number from 0 to 1"),
    ({**GOOD, "output": {"progress": 7}}, "progress"),
    ({**GOOD, "output": {"progress": 0.5, "step": "12"}}, "step"),
    ({**GOOD, "status": "COMPLETED", "output": {"lora_url": "javascript:alert(1)"}}, "URL"),
    ({**GOOD, "status": "COMPLETED", "output": {"lora_url": "https://x/" + PAYLOAD}}, "URL"),
    ({**GOOD, "status": "COMPLETED", "output": {"lora_url": "https:///no-host"}}, "URL"),
    ({**GOOD, "status": "COMPLETED", "output": {"lora_url": "data:text/html,x"}}, "URL"),
    ({**GOOD, "status": "COMPLETED", "output": {"lora_url": ["s3://b/k"]}}, "URL"),
])
def test_status_answer_is_checked(hostile, answer, message):
    hostile.answers[("GET", "status")] = (200, answer)
    with pytest.raises(RunPodError, match=message):
        hostile.client().status("job-1")


def test_status_keeps_only_known_fields(hostile):
    hostile.answers[("GET", "status")] = (200, {**GOOD, "extra": PAYLOAD, "output": {
        "progress": 0.25, "step": 3, "total_steps": 12, "message": PAYLOAD * 20,
        "html": PAYLOAD}})
    st = hostile.client().status("job-1")
    assert set(st) == {"id", "status", "delayTime", "executionTime", "output"}
    assert set(st["output"]) == {"progress", "step", "total_steps", "message"}
    assert len(st["output"]["message"]) == 500
    hostile.answers[("GET", "status")] = (200, {
        "id": "job-1", "status": "COMPLETED",
        "output": {"lora_url": "s3://bucket/loras/a.safetensors", "x": PAYLOAD}})
    assert hostile.client().status("job-1")["output"] == {
        "lora_url": "s3://bucket/loras/a.safetensors"}


@pytest.mark.parametrize("job_id", [PAYLOAD, "../run", "a/b", "", "x" * 129, None])
def test_a_bad_job_id_is_never_sent(hostile, job_id):
    c = hostile.client()
    for call in (c.status, c.cancel, c.retry):
        with pytest.raises(RunPodError, match="job id"):
            call(job_id)
    assert hostile.seen == []


def test_cancel_and_retry_answers_are_checked(hostile):
    hostile.answers[("POST", "retry")] = (200, {"id": "job-1", "status": PAYLOAD})
    hostile.answers[("POST", "cancel")] = (200, {"id": PAYLOAD, "status": "CANCELLED"})
    with pytest.raises(RunPodError, match="unknown state"):
        hostile.client().retry("job-1")
    with pytest.raises(RunPodError, match="job id"):
        hostile.client().cancel("job-1")


@pytest.fixture
def hsvc(wb, hostile):
    for i in range(12):
        put_remote(wb, A, i, portrait(i + 1))
    wb.engine.pull([A])
    return TrainingService(wb, hostile.client())


def stored(wb) -> str:
    return wb.layout.versions_path(1).read_text()


@pytest.mark.attack('RunPod /run answering markup, a bad job id or an unknown status',
                    'one clear error, nothing stored from the answer')
def test_a_hostile_run_answer_stores_nothing_from_it(hsvc, wb, hostile):
    hostile.answers[("POST", "run")] = (200, {"id": PAYLOAD, "status": PAYLOAD})
    prep = hsvc.prepare(A, TrainingParams.from_preset("sd15", resolution=256))
    with pytest.raises(RunPodError, match="job id"):
        hsvc.launch(prep)
    (v,) = hsvc.versions.load(1)
    assert v.status == "LAUNCH_FAILED" and v.job_id is None and "job id" in v.error


@pytest.mark.attack('RunPod /status answering markup, bad numbers or a javascript: URL',
                    'refused before it reaches the training record')
def test_hostile_status_answers_never_reach_the_record(hsvc, wb, hostile):
    hostile.answers[("POST", "run")] = (200, {"id": "job-1", "status": "IN_QUEUE"})
    hsvc.launch(hsvc.prepare(A, TrainingParams.from_preset("sd15", resolution=256)))
    hostile.answers[("GET", "status")] = (200, {
        "id": "job-1", "status": "COMPLETED", "output": {"lora_url": "javascript:" + PAYLOAD}})
    (v,) = hsvc.poll(A)
    assert v.status == "IN_QUEUE" and v.lora_url is None and "not an http(s) or s3 URL" in v.error
    hostile.answers[("GET", "status")] = (200, {
        "id": "job-1", "status": "FAILED", "error": PAYLOAD, "output": {"lora_url": PAYLOAD}})
    (v,) = hsvc.poll(A)
    assert v.status == "FAILED" and v.error == PAYLOAD and v.lora_url is None  # text, shown escaped
    hostile.answers[("POST", "retry")] = (200, {"id": "job-1", "status": PAYLOAD})
    with pytest.raises(RunPodError, match="unknown state"):
        hsvc.retry(A, v.id)
    assert hsvc.versions.load(1)[0].status == "FAILED"


@pytest.mark.attack('a webhook with a hostile body',
                    'refused, nothing stored')
def test_a_hostile_webhook_is_refused(hsvc, wb, hostile):
    hostile.answers[("POST", "run")] = (200, {"id": "job-1", "status": "IN_QUEUE"})
    v = hsvc.launch(hsvc.prepare(A, TrainingParams.from_preset("sd15", resolution=256)))
    before = stored(wb)
    with pytest.raises(ActorbenchError, match="Webhook refused: .*URL"):
        hsvc.accept_webhook(A, v.id, v.webhook_secret, {
            "id": "job-1", "status": "COMPLETED", "output": {"lora_url": "javascript:x"}})
    with pytest.raises(ActorbenchError, match="Webhook refused: .*progress"):
        hsvc.accept_webhook(A, v.id, v.webhook_secret, {
            "id": "job-1", "status": "IN_PROGRESS", "output": {"progress": PAYLOAD}})
    assert stored(wb) == before


def test_a_record_with_a_markup_job_id_or_url_is_never_used(hsvc, wb, hostile):
    p = wb.layout.versions_path(1)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps({"versions": versions()}))
    by_id = {v.id: v for v in hsvc.poll(A)}
    assert by_id["a3"].status == "LOST" and "was not sent" in by_id["a3"].error
    assert hostile.seen == []
    with pytest.raises(ActorbenchError, match="not an http"):
        hsvc.mark_good(A, "a2")
    assert "validated_lora_model" not in wb.settings.registry_path.read_text()


# -- img2img answers -------------------------------------------------------------------------
@pytest.mark.parametrize(("answer", "message"), [
    ({"images": {"0": "x"}}, "without images"),
    ({"images": []}, "without images"),
    ({"images": PAYLOAD}, "without images"),
    ({"images": [42]}, "not base64 text"),
    ({"images": [PAYLOAD]}, "unreadable image"),
    ({"images": [base64.b64encode(PAYLOAD.encode()).decode()]}, "unreadable image"),
    ([PAYLOAD], "without images"),
])
@pytest.mark.attack('an img2img service answering garbage or non-image data',
                    'one clear error, nothing written')
def test_img2img_answer_is_checked(hostile, answer, message):
    from PIL import Image

    hostile.answers[("POST", "img2img")] = (200, answer)
    img2img = Img2ImgBackend(hostile.url, attempts=1)
    with pytest.raises(Img2ImgError, match=message):
        img2img.generate(Image.new("RGB", (64, 64)), 1, seed=1)
