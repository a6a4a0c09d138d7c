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
from tests.e2e.conftest import browser_page, log_in_as_learner

pytestmark = pytest.mark.e2e

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
LEAD_IN_S = 1.5
TAIL_S = 4.0
WAV_RATE = 44_100


def _performance_wav(notes: list[ScoreNote], folder: Path, lead_in_s: float = LEAD_IN_S) -> tuple[Path, float]:
    """A WAV of the piece padded with silence (Chromium loops the file and starts it when the microphone opens,
    before the take's socket is ready); returns its path and where the music ends."""
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
    padded = np.concatenate([np.zeros(int(lead_in_s * WAV_RATE)), music, np.zeros(int(TAIL_S * WAV_RATE))])
    write_wav(wav, padded.astype(np.float32), WAV_RATE)
    return wav, lead_in_s + len(music) / WAV_RATE


def test_learner_plays_a_lesson_and_finds_the_take_in_history(etude_server, chromium_path, tmp_path) -> None:  # type: ignore[no-untyped-def]
    notes = corpus_score("essenFolksong/kinder0", 1).notes
    order = {n.note_id: i for i, n in enumerate(notes)}
    wav, music_s = _performance_wav(notes, tmp_path)
    with browser_page(chromium_path, microphone_wav=wav) as page:
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
        newest = page.locator("#take-history .take-row").first  # other tests' takes may be older rows
        history_text, history_html = newest.inner_text(), newest.inner_html()
        page.screenshot(path=str(ARTIFACTS / "e2e-history.png"))

    assert not page.errors, page.errors
    assert reached > len(notes) / 2, f"cursor stopped at note {reached} of {len(notes)}"
    assert heard > 200, "the fake microphone delivered almost no audio frames"
    assert take_url and accuracy is not None and accuracy > 0.5, accuracy
    assert f'href="{take_url}"' in history_html, history_html  # the newest row is this take
    assert "Schlaf, Kindlein, schlaf" in history_text and "Finished" in history_text


def test_a_piece_with_a_pickup_starts_from_bar_0(etude_server, chromium_path, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The jig begins with a pickup, bar 0: the start field shows it, and Start starts a take from it."""
    notes = corpus_score("oneills1850/0731-0731.abc", None).notes[:8]
    wav, _ = _performance_wav(notes, tmp_path)
    with browser_page(chromium_path, microphone_wav=wav) as page:
        log_in_as_learner(page, etude_server, "The Priest with the Collar")
        first_bar = page.input_value("#from-measure")
        page.click("#start-stop")
        page.wait_for_function("document.body.dataset.state === 'listening'", timeout=60_000)
        page.wait_for_function("window.etude.framesSent > 50", timeout=20_000)
        page.click("#start-stop")
        page.wait_for_function("document.body.dataset.state === 'done'", timeout=20_000)
        take_url = page.evaluate("window.etude.takeUrl")
    assert not page.errors, page.errors
    assert first_bar == "0", first_bar
    assert take_url, "no take was saved"
