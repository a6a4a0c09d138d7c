"""The core loop in a real browser: log in, open a lesson, play into a fake microphone, see the take saved.

Chromium's fake capture device plays a WAV of the piece (rendered with FluidSynth when installed, else with
Etude's own synthesizer) through getUserMedia, the AudioWorklet, the socket and the listening engine.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inference.audio import write_wav
from inference.synth import fluidsynth_available, notes_to_midi, render_notes, render_with_fluidsynth
from inference.types import ScoreNote
from tests.conftest import ARTIFACTS, corpus_score
from tests.e2e.conftest import CHROMIUM_FLAGS, log_in_as_learner

pytestmark = pytest.mark.e2e

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
LEAD_IN_S = 1.5
TAIL_S = 4.0
WAV_RATE = 44_100


def _performance_wav(notes: list[ScoreNote], folder: Path) -> tuple[Path, float]:
    """A WAV of the piece padded with silence (Chromium loops the file); returns its path and music length."""
    wav = folder / "performance.wav"
    if fluidsynth_available() and SOUNDFONT.exists():
        midi = folder / "performance.mid"
        notes_to_midi(notes, midi, program=73)  # flute
        rendered = folder / "rendered.wav"
        render_with_fluidsynth(midi, rendered, SOUNDFONT, sr=WAV_RATE)
        import soundfile

        audio, _ = soundfile.read(rendered, dtype="float32", always_2d=True)
        music = audio.mean(axis=1)
    else:
        music, _ = render_notes(notes, sr=WAV_RATE, lead_in_s=0.0, tail_s=0.5)
    padded = np.concatenate([np.zeros(int(LEAD_IN_S * WAV_RATE)), music, np.zeros(int(TAIL_S * WAV_RATE))])
    write_wav(wav, padded.astype(np.float32), WAV_RATE)
    return wav, LEAD_IN_S + len(music) / WAV_RATE


def test_learner_plays_a_lesson_and_finds_the_take_in_history(etude_server, chromium_path, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    notes = corpus_score("essenFolksong/kinder0", 1).notes
    order = {n.note_id: i for i, n in enumerate(notes)}
    wav, music_s = _performance_wav(notes, tmp_path)
    args = [*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={wav}"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), headless=True, args=args)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        log_in_as_learner(page, etude_server, "Schlaf, Kindlein, schlaf")
        assert page.locator("#score g.note").count() >= len(notes)

        page.click("#start-stop")
        page.wait_for_function("document.body.dataset.state === 'listening'", timeout=60_000)  # slow when loaded
        cursor = "document.querySelector('#score').dataset.cursorNote || ''"
        page.wait_for_function(
            f"(() => {{ const order = {json.dumps(order)}; "
            f"return (order[{cursor}] ?? -1) >= {int(len(notes) * 0.8)}; }})()",
            timeout=int((music_s + 10) * 1000),
        )
        page.screenshot(path=str(ARTIFACTS / "e2e-lesson-playing.png"), full_page=True)
        reached = order[page.evaluate(cursor)]
        heard = page.evaluate("window.etude.framesSent")

        page.click("#start-stop")
        page.wait_for_function("document.body.dataset.state === 'done'", timeout=20_000)
        take_url = page.evaluate("window.etude.takeUrl")
        accuracy = page.evaluate("window.etude.summary && window.etude.summary.accuracy")
        page.screenshot(path=str(ARTIFACTS / "e2e-lesson-done.png"), full_page=True)

        page.goto(f"{etude_server}/practice/history/")
        rows = page.locator("#take-history .take-row")
        row_count, history_text = rows.count(), rows.first.inner_text()
        page.screenshot(path=str(ARTIFACTS / "e2e-history.png"))
        browser.close()

    assert not errors, errors
    assert reached > len(notes) / 2, f"cursor stopped at note {reached} of {len(notes)}"
    assert heard > 200, "the fake microphone delivered almost no audio frames"
    assert take_url and accuracy is not None and accuracy > 0.5, accuracy
    assert row_count == 1 and "Schlaf, Kindlein, schlaf" in history_text and "Finished" in history_text
