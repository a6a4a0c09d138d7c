"""Voice commands in a real browser: the fake microphone says "tempo eighty" during a take; the page obeys.

The speech goes the whole live way: getUserMedia, the AudioWorklet, the practice socket, the server's command
listener (Silero VAD, Whisper) and back as a ``command`` event that voice.js carries out.
"""

from __future__ import annotations

import numpy as np
import pytest

from inference.audio import resample, write_wav
from inference.speech.synthetic import speak
from tests.conftest import ARTIFACTS, require_binary
from tests.e2e.conftest import browser_page, log_in_as_learner

pytestmark = pytest.mark.e2e

WAV_RATE = 44_100


def test_a_spoken_tempo_change_moves_the_tempo_slider(etude_server, chromium_path, tmp_path) -> None:  # type: ignore[no-untyped-def]
    require_binary("espeak-ng")
    speech = resample(speak("tempo eighty", "en-us", 150), 16_000, WAV_RATE)
    wav = tmp_path / "tempo-eighty.wav"
    silence = np.zeros(int(1.5 * WAV_RATE), dtype=np.float32)
    write_wav(wav, np.concatenate((silence, 4 * speech, silence, silence)), WAV_RATE)  # Chromium loops the file
    with browser_page(chromium_path, microphone_wav=wav) as page:
        log_in_as_learner(page, etude_server, "Schlaf, Kindlein, schlaf")
        lesson_bpm = page.evaluate("JSON.parse(document.getElementById('lesson-config').textContent).tempo_bpm")

        page.click("#start-stop")
        page.wait_for_function("document.body.dataset.state === 'listening'", timeout=60_000)  # slow when loaded
        page.wait_for_function(
            "(window.etude.voice?.heard || []).some((h) => h.intent.name === 'tempo')", timeout=45_000
        )
        heard = page.evaluate("window.etude.voice.heard")
        slider = int(page.input_value("#tempo"))
        shown = page.inner_text("#voice-heard")
        tempo_label = page.inner_text("#tempo-value")
        page.screenshot(path=str(ARTIFACTS / "e2e-voice-command.png"), full_page=True)
        page.click("#start-stop")
        page.wait_for_function("document.body.dataset.state === 'done'", timeout=20_000)

    assert not page.errors, page.errors
    assert heard[0]["intent"] == {"name": "tempo", "bpm": 80}, heard
    expected = min(150, max(50, round(100 * 80 / lesson_bpm)))  # percent of the lesson's tempo, 50-150 %
    assert slider == expected, (slider, expected, lesson_bpm)
    assert "Tempo 80" in shown, shown
    if expected == round(100 * 80 / lesson_bpm):  # within the slider's range: the label says what was asked
        assert tempo_label.endswith("· 80 bpm"), tempo_label
