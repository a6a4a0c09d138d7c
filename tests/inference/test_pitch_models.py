"""CREPE (ONNX), the offline pitch track, the onset function, note segmentation and basic-pitch's notes."""

from __future__ import annotations

import numpy as np
import pytest

from inference.pitch import hz_to_midi
from inference.pitch.basic_pitch import transcribe
from inference.pitch.crepe import CrepeTracker, crepe_track
from inference.pitch.notes import segment_notes
from inference.pitch.offline import onset_strength, pitch_track
from inference.synth import make_melody, render_notes
from inference.types import HOP_SAMPLES, SAMPLE_RATE

SCALE = [60, 62, 64, 65, 67, 69, 71, 72]


def sine(f0_hz: float, seconds: float = 0.6, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * f0_hz * t)).astype(np.float32)


def test_streaming_crepe_hears_a_440_hz_sine_as_a4() -> None:
    tracker = CrepeTracker()
    audio = sine(440.0)
    frames = [tracker(audio[i : i + HOP_SAMPLES]) for i in range(0, len(audio) - HOP_SAMPLES + 1, HOP_SAMPLES)]
    midis = [hz_to_midi(f.f0_hz) for f in frames[4:]]
    assert np.allclose(midis, 69.0, atol=0.1)


def test_offline_crepe_is_silent_on_silence_and_right_on_a_tone() -> None:
    f0, _ = crepe_track(np.concatenate([np.zeros(8000, dtype=np.float32), sine(261.63)]))
    assert f0.shape == (int((8000 + 0.6 * SAMPLE_RATE) // HOP_SAMPLES),)
    assert np.allclose([hz_to_midi(f) for f in f0[30:50]], 60.0, atol=0.1)


@pytest.mark.parametrize("method", ["yin", "crepe-tiny"])
def test_offline_tracks_follow_a_rendered_scale(method: str) -> None:
    audio, onsets = render_notes(make_melody(SCALE, [1.0] * len(SCALE)), timbre="string", seed=1)
    track = pitch_track(audio, method)
    for midi, onset in zip(SCALE, onsets, strict=True):
        inside = (track.times > onset + 0.1) & (track.times < onset + 0.45)
        heard = [hz_to_midi(f) for f in track.f0_hz[inside] if f > 0]
        assert np.median(heard) == pytest.approx(midi, abs=0.2)
    assert np.mean(track.f0_hz[track.times < 0.9] == 0.0) > 0.9  # the lead-in holds only faint breath noise


def test_the_onset_function_peaks_at_every_onset_and_nowhere_else() -> None:
    notes = make_melody([67] * 4 + [72] * 4, [1.0] * 8, bpm=120)
    audio, onsets = render_notes(notes, timbre="piano-ish", seed=2)
    strength = onset_strength(audio)
    times = (np.arange(len(strength)) + 0.5) * HOP_SAMPLES / SAMPLE_RATE
    for onset in onsets:
        assert strength[(times > onset - 0.03) & (times < onset + 0.05)].max() > 0.5
    between = np.ones(len(times), dtype=bool)
    for onset in onsets:
        between &= ~((times > onset - 0.05) & (times < onset + 0.12))
    assert strength[between].max() < 0.35  # below the re-attack threshold of ``inference.pitch.notes``


def test_segmented_notes_have_the_played_pitches_and_onsets() -> None:
    audio, onsets = render_notes(make_melody(SCALE, [1.0] * len(SCALE)), timbre="flute", seed=3)
    notes = segment_notes(pitch_track(audio, "crepe-tiny"), onset_strength(audio))
    assert [round(hz_to_midi(n.hz)) for n in notes] == SCALE
    assert np.allclose([n.onset_s for n in notes], onsets, atol=0.04)


def test_basic_pitch_finds_every_note_of_a_chord() -> None:
    voices = (("c", 48), ("e", 60), ("g", 64))
    chord = [note for prefix, midi in voices for note in make_melody([midi], [4.0], id_prefix=prefix)]
    audio, _ = render_notes(chord, timbre="piano-ish", seed=4)
    strong = {e.midi for e in transcribe(audio) if e.confidence > 0.45 and abs(e.onset_s - 1.0) < 0.05}
    assert {48, 60, 64} <= strong
