"""An assignment in a real browser: the learner opens the demo assignment, the page sets its bars and tempo,
the take stops by itself after the assignment's last bar, and the instructor sees the grade."""

from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS, corpus_score
from tests.e2e.conftest import browser_page, log_in, log_in_as_learner, open_demo_course
from tests.e2e.test_lesson_in_browser import _performance_wav

pytestmark = pytest.mark.e2e


def test_an_assignment_take_stops_after_its_last_bar_and_is_graded(etude_server, chromium_path, tmp_path) -> None:  # type: ignore[no-untyped-def]
    notes = corpus_score("essenFolksong/kinder0", 1).notes
    # A long lead-in: the excerpt is short, and on a loaded machine the take may start seconds after the
    # microphone (and the file) did; notes played before that are lost, as a real learner's would be.
    wav, music_s = _performance_wav(notes, tmp_path, lead_in_s=5.0)
    with browser_page(chromium_path, microphone_wav=wav) as page:

        log_in_as_learner(page, etude_server)
        open_demo_course(page)
        page.click("#assignments a:has-text('the opening')")
        page.wait_for_function("document.body.dataset.state === 'idle'", timeout=30_000)
        banner = page.inner_text("#assignment-banner")
        config = page.evaluate("JSON.parse(document.getElementById('lesson-config').textContent)")
        last_bar = config["assignment"]["to_measure"]
        preset = (page.input_value("#from-measure"), page.input_value("#tempo"))

        page.click("#start-stop")
        page.wait_for_function("document.body.dataset.state === 'listening'", timeout=60_000)
        page.wait_for_function("document.body.dataset.state === 'done'", timeout=int((music_s + 20) * 1000))
        stopped_in = page.evaluate("window.etude.stoppedAfterExcerptAt")
        frames_sent = page.evaluate("window.etude.framesSent")
        judged = page.evaluate("window.etude.summary && window.etude.summary.notes_total")
        status = page.inner_text("#status")
        take_url = page.evaluate("window.etude.takeUrl")
        page.screenshot(path=str(ARTIFACTS / "e2e-assignment-done.png"), full_page=True)

        log_in(page, etude_server, "instructor", "teach-etude")
        open_demo_course(page)
        page.click("text=Progress and grades")
        cell = page.locator("#progress-table tbody tr", has_text="learner").locator("td.grade").first
        grade_status, grade_text = cell.get_attribute("data-status"), cell.inner_text()
        page.screenshot(path=str(ARTIFACTS / "e2e-assignment-progress.png"), full_page=True)

    assert not page.errors, page.errors
    assert "bars 1–4" in banner and preset == ("1", "100"), (banner, preset)
    assert take_url, "the take was not saved"
    assert judged == sum(1 for n in notes if n.measure <= last_bar), judged
    assert stopped_in and stopped_in > last_bar and status.startswith("Done"), (stopped_in, status)
    music_frames = music_s / 0.02  # the browser sends 20 ms frames; it stopped well before the music's end
    assert frames_sent < 0.8 * music_frames, (frames_sent, music_frames)
    percent = int(grade_text.split("%")[0])
    assert percent >= 70 and grade_status == ("passed" if percent >= 80 else "attempted"), grade_text
