"""Browser: the Reports page builds tables and plots over the demo library."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_tab, shot

pytestmark = pytest.mark.browser


def test_reports_page(page, running_app):  # type: ignore[no-untyped-def]
    open_tab(page, "Reports")
    page.get_by_role("button", name="Build report").click()
    page.wait_for_selector(".ab-report-status:has-text('Built in')", timeout=60000)
    assert "287" in page.locator(".ab-report-totals").inner_text()
    page.wait_for_function("() => [...document.querySelectorAll('.ab-report-plots img')]"
                           ".some(i => i.naturalWidth > 0)")
    assert page.locator(".ab-report-table tr").count() > 10
    shot(page, "reports")
