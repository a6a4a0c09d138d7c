"""The composer in a real browser: log in, generate a melody, rate it with the keyboard, see the plot grow."""

from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS
from tests.e2e.conftest import browser_page, log_in_as_learner

pytestmark = pytest.mark.e2e


def test_learner_generates_rates_by_keyboard_and_sees_progress(etude_server, chromium_path) -> None:  # type: ignore[no-untyped-def]
    with browser_page(chromium_path, height=1000) as page:
        log_in_as_learner(page, etude_server)
        page.click("nav >> text=Composer")
        page.select_option("#scale", "minor")
        page.fill("#length", "8")
        page.click("#generate")
        page.wait_for_function("document.body.dataset.composer === 'ready'", timeout=20_000)
        first_id = page.get_attribute("#melody-panel", "data-melody-id")
        assert page.locator("#score g.note").count() >= 8
        assert page.get_attribute("#progress-plot", "data-count") == "0"

        page.keyboard.press("7")
        page.wait_for_function("document.querySelector('#progress-plot').dataset.count === '1'", timeout=20_000)
        second_id = page.get_attribute("#melody-panel", "data-melody-id")
        page.keyboard.press("0")  # 0 means 10
        page.wait_for_function("document.querySelector('#progress-plot').dataset.count === '2'", timeout=20_000)
        points = page.locator("#progress-plot circle.point")
        point_count, last_title = points.count(), points.nth(1).locator("title").text_content()
        summary = page.text_content("#progress-summary")
        page.screenshot(path=str(ARTIFACTS / "e2e-composer.png"), full_page=True)

        page.reload()  # the state lives on the server: the page comes back where the learner stopped
        page.wait_for_function("document.body.dataset.composer === 'ready'", timeout=20_000)
        resumed_count = page.get_attribute("#progress-plot", "data-count")

    assert not page.errors, page.errors
    assert first_id and second_id and first_id != second_id
    assert point_count == 2 and last_title and last_title.endswith(": 10")
    assert summary and "2 ratings" in summary
    assert resumed_count == "2"
