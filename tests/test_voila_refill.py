"""When the dashboard's Voila refills its preheat pool: once the server has been quiet (no
request, no kernel message) for ``REFILL_QUIET_S``, at once if a visitor needs the kernel,
and never later than ``REFILL_WAIT_S``. The manager here is a stand-in for Voila's pool manager
with the two methods ``served_is_fresh`` overrides; the real one runs in the browser tests."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from jupyter_server._tz import utcnow

from actorbench.server import voila_server as vs


class PoolManager:
    """What Voila's manager does around a refill, minus the kernels."""

    def __init__(self) -> None:
        self.last_kernel_activity = utcnow()
        self.started: list[float] = []

    async def get_rendered_notebook(self, notebook_name: str) -> tuple[None, None, str]:
        return None, None, "kernel-1"

    def get_kernel(self, kernel_id: str) -> Any:
        raise KeyError(kernel_id)

    async def _initialize(self, notebook_path: str, kernel_id: str | None = None,
                          **kwargs: Any) -> dict[str, Any]:
        self.started.append(time.monotonic())
        return {"kernel_id": "kernel-2"}


Served = vs.served_is_fresh(PoolManager)


def run(coro: Any) -> Any:
    """On an event loop of its own thread (Playwright's sync API may hold this one's)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(autouse=True)
def no_requests_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vs.Activity, "last", 0.0)


def test_the_first_fill_does_not_wait() -> None:
    m = Served()
    t0 = time.monotonic()
    run(m._initialize("dashboard.ipynb"))
    assert m.started[0] - t0 < 0.1


def test_a_refill_waits_while_kernels_talk_then_goes_when_quiet() -> None:
    m = Served()

    async def scenario() -> float:
        await m.get_rendered_notebook("dashboard.ipynb")  # a visit: the next fill is a refill
        refill = asyncio.create_task(m._initialize("dashboard.ipynb"))
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.8:  # the served page is busy for 0.8 s
            m.last_kernel_activity = utcnow()
            await asyncio.sleep(0.05)
        busy_until = time.monotonic()
        await refill
        return busy_until

    busy_until = run(scenario())
    waited = m.started[0] - busy_until
    assert not m.started[:-1]
    assert vs.REFILL_QUIET_S - 0.06 <= waited <= vs.REFILL_QUIET_S + 0.7


def test_requests_served_count_as_activity() -> None:
    m = Served()
    m.last_kernel_activity = utcnow().replace(year=2000)  # kernels long quiet

    async def scenario() -> float:
        await m.get_rendered_notebook("dashboard.ipynb")
        refill = asyncio.create_task(m._initialize("dashboard.ipynb"))
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.6:  # the page loads its scripts
            vs.Activity.last = time.monotonic()
            await asyncio.sleep(0.05)
        busy_until = time.monotonic()
        await refill
        return busy_until

    busy_until = run(scenario())
    assert m.started[0] - busy_until >= vs.REFILL_QUIET_S - 0.06


def test_the_visit_itself_counts_even_after_a_long_quiet() -> None:
    """The page request is logged only once it is answered: the visit is activity at once,
    or a refill started in the same moment would run over the page's load."""
    m = Served()
    m.last_kernel_activity = utcnow().replace(year=2000)  # long quiet, no request yet

    async def scenario() -> float:
        t_visit = time.monotonic()
        await m.get_rendered_notebook("dashboard.ipynb")
        await m._initialize("dashboard.ipynb")
        return t_visit

    t_visit = run(scenario())
    assert m.started[0] - t_visit >= vs.REFILL_QUIET_S - 0.06


def test_a_restart_of_a_given_kernel_does_not_wait() -> None:
    m = Served()

    async def scenario() -> float:
        await m.get_rendered_notebook("dashboard.ipynb")
        m.last_kernel_activity = utcnow()
        t0 = time.monotonic()
        await m._initialize("dashboard.ipynb", "kernel-1")
        return t0

    t0 = run(scenario())
    assert m.started[0] - t0 < 0.1


def test_the_dashboard_command_leaves_the_timing_to_this_module() -> None:
    from actorbench.server.command import voila_command

    assert "--VoilaKernelManager.fill_delay=0" in voila_command(8866)


def test_a_visitor_who_needs_the_kernel_does_not_wait_for_quiet() -> None:
    m = Served()

    async def scenario() -> float:
        await m.get_rendered_notebook("dashboard.ipynb")
        refill = asyncio.create_task(m._initialize("dashboard.ipynb"))
        await asyncio.sleep(0.2)
        m.last_kernel_activity = utcnow()  # busy ...
        t_visit = time.monotonic()
        await m.get_rendered_notebook("dashboard.ipynb")  # ... and another visitor comes
        await refill
        return t_visit

    t_visit = run(scenario())
    assert m.started[0] - t_visit < 0.15


def test_a_refill_never_waits_longer_than_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vs, "REFILL_WAIT_S", 0.4)
    m = Served()

    async def scenario() -> float:
        await m.get_rendered_notebook("dashboard.ipynb")
        t0 = time.monotonic()
        refill = asyncio.create_task(m._initialize("dashboard.ipynb"))
        while not refill.done() and time.monotonic() - t0 < 3:  # a page that never stops
            m.last_kernel_activity = utcnow()
            await asyncio.sleep(0.02)
        refill.cancel()
        return t0

    t0 = run(scenario())
    assert m.started, "the refill never started"
    assert 0.35 <= m.started[0] - t0 <= 1.0


def test_the_server_logs_each_request_and_notes_its_time(caplog: pytest.LogCaptureFixture
                                                         ) -> None:
    class Handler:
        request = type("R", (), {"request_time": lambda self: 0.012, "method": "GET",
                                 "uri": "/nothing?token=secret", "remote_ip": "127.0.0.1"})()

        def get_status(self) -> int:
            return 404

        def _request_summary(self) -> str:
            return "GET /nothing (127.0.0.1)"

    before = time.monotonic()
    with caplog.at_level("INFO", logger="tornado.access"):
        vs.Activity.log_request(Handler())  # type: ignore[arg-type]
    assert vs.Activity.last >= before
    assert "404 GET /nothing (127.0.0.1) 12.00ms" in caplog.text
    assert "secret" not in caplog.text  # the token a URL carries is never logged
