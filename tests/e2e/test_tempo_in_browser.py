"""The tempo slider in a real browser: it shows a percentage of the lesson's target tempo, and the take is saved
at the bpm it showed (the factor the page sends is relative to the score's written tempo, not to the target)."""

from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS, corpus_score
from tests.e2e.conftest import browser_page, log_in, log_in_as_learner, open_demo_course
from tests.e2e.test_lesson_in_browser import _performance_wav

pytestmark = pytest.mark.e2e

LESSON = "The Lads of the Village"  # written at ♩ = 104; no other browser test opens it
TARGET_BPM = 80
SLOWER_STEPS = 5  # "-" five times: 100 % → 75 % of the target, ♩ = 60


def test_a_take_is_saved_at_the_tempo_the_slider_shows(etude_server, chromium_path, tmp_path) -> None:  # type: ignore[no-untyped-def]
    notes = corpus_score("airdsAirs/book1.abc", 3).notes[:8]  # a few seconds: the take need not reach the end
    wav, _ = _performance_wav(notes, tmp_path)
    with browser_page(chromium_path, microphone_wav=wav) as page:
        log_in(page, etude_server, "instructor", "teach-etude")
        open_demo_course(page)
        page.get_by_role("link", name=f"Settings of {LESSON}").click()
        page.fill("#id_tempo_bpm", str(TARGET_BPM))
        page.click("button[type=submit]:has-text('Save')")
        page.wait_for_url("**/courses/*/")

        log_in_as_learner(page, etude_server, LESSON)
        written_bpm = page.evaluate("JSON.parse(document.getElementById('lesson-config').textContent).written_bpm")
        shown_at_first = page.inner_text("#tempo-value")
        for _ in range(SLOWER_STEPS):
            page.keyboard.press("-")
        shown = page.inner_text("#tempo-value")

        page.click("#start-stop")
        page.wait_for_function("document.body.dataset.state === 'listening'", timeout=60_000)
        page.wait_for_function("window.etude.framesSent > 100", timeout=20_000)  # 2 s of audio reached the tutor
        page.click("#start-stop")
        page.wait_for_function("document.body.dataset.state === 'done'", timeout=20_000)
        take_id, take_url = page.evaluate("[window.etude.takeId, window.etude.takeUrl]")

        page.goto(f"{etude_server}{take_url}")
        take_text = page.inner_text("main")
        page.goto(f"{etude_server}/practice/history/")
        history_text = page.inner_text(f"#take-history .take-row[data-take-id='{take_id}']")
        page.screenshot(path=str(ARTIFACTS / "e2e-tempo-history.png"))

    assert not page.errors, page.errors
    # Were the factor relative to the target (75 % → 0.75), the take would be saved at 0.75 × 104 = ♩ = 78.
    assert round(written_bpm) == 104, written_bpm
    assert shown_at_first == f"100 % · {TARGET_BPM} bpm" and shown == "75 % · 60 bpm", (shown_at_first, shown)
    assert take_url and "♩ = 60 ·" in take_text, take_text
    assert "♩ = 60" in history_text, history_text
