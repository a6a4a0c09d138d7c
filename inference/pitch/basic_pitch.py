"""Polyphonic note transcription with Spotify's basic-pitch model (Bittner et al., ICASSP 2022) on onnxruntime.

The PyPI ``basic-pitch`` package (installed with ``--no-deps``: only its model file is used) ships ``nmp.onnx``,
a small network that maps 2 s windows of 22.05 kHz audio to per-semitone note, onset and pitch-contour
activations (88 piano keys, 256-sample hops, ~86 frames per second). The windowing and the note extraction
below are Etude's own: windows overlap by 30 frames and the centre of each is kept, frame times are computed
exactly from the window positions, and notes start at onset peaks (or at strong rises of the note
activation) and last while the note activation stays above a threshold.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.audio import resample
from inference.types import SAMPLE_RATE

MODEL_SR = 22_050
MODEL_HOP = 256
WINDOW_SAMPLES = 2 * MODEL_SR - MODEL_HOP
WINDOW_FRAMES = 172
OVERLAP_FRAMES = 30
WINDOW_HOP = WINDOW_SAMPLES - OVERLAP_FRAMES * MODEL_HOP
LOWEST_MIDI = 21
INPUT = "serving_default_input_2:0"
OUTPUTS = ("StatefulPartitionedCall:1", "StatefulPartitionedCall:2")
"""The note and onset activations (the third output, the pitch contour, is not used)."""


@dataclass(frozen=True)
class NoteEvent:
    """One transcribed note: seconds from the start of the audio, MIDI pitch, 0..1 confidence."""

    onset_s: float
    offset_s: float
    midi: int
    confidence: float


@dataclass(frozen=True)
class NoteExtraction:
    onset_threshold: float = 0.5
    frame_threshold: float = 0.3
    min_note_s: float = 0.06
    gap_frames: int = 4
    """A note survives this many frames below ``frame_threshold`` (a piano note fading, a wobble)."""
    inferred_onset_rise: float = 0.35
    """A rise of the note activation this large over two frames starts a note when the onset head is quiet."""
    min_confidence: float = 0.35
    """Notes whose mean note activation is below this are dropped (mostly octave ghosts). Chosen on Vienna
    4x22 performances p05 (P 0.86 / R 0.95 there), which the benchmark does not use."""


def model_path() -> Path:
    spec = importlib.util.find_spec("basic_pitch")  # finds the package without importing it (no tensorflow)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "basic-pitch is not installed: .venv/bin/python -m pip install --no-deps -r requirements-nodeps.txt"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "saved_models" / "icassp_2022" / "nmp.onnx"
    if not path.is_file():
        raise FileNotFoundError(f"basic-pitch's nmp.onnx is missing at {path}")
    return path


def activations(audio: np.ndarray, sr: int = SAMPLE_RATE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frame times in s, note activations [frames, 88], onset activations [frames, 88]) for mono audio."""
    from inference.runtime import onnx_session

    session = onnx_session(model_path())
    x = resample(np.asarray(audio, dtype=np.float32), sr, MODEL_SR)
    half_overlap = OVERLAP_FRAMES // 2
    padded = np.concatenate([np.zeros(half_overlap * MODEL_HOP, dtype=np.float32), x])
    starts = list(range(0, max(len(padded), 1), WINDOW_HOP))
    windows = np.zeros((len(starts), WINDOW_SAMPLES, 1), dtype=np.float32)
    for i, start in enumerate(starts):
        chunk = padded[start : start + WINDOW_SAMPLES]
        windows[i, : len(chunk), 0] = chunk
    notes, onsets = [], []
    for i in range(0, len(windows), 8):  # a few windows per run keeps memory flat for long takes
        note, onset = session.run(list(OUTPUTS), {INPUT: windows[i : i + 8]})
        notes.append(note)
        onsets.append(onset)
    keep = slice(half_overlap, WINDOW_FRAMES - half_overlap)
    note_act = np.concatenate(notes)[:, keep, :]
    onset_act = np.concatenate(onsets)[:, keep, :]
    frame_in_window = np.arange(half_overlap, WINDOW_FRAMES - half_overlap)
    times = (np.array(starts)[:, None] + frame_in_window[None, :] * MODEL_HOP) / MODEL_SR - half_overlap * (
        MODEL_HOP / MODEL_SR
    )
    times = times.reshape(-1)
    n_keep = int(np.searchsorted(times, len(x) / MODEL_SR))
    return times[:n_keep], note_act.reshape(-1, 88)[:n_keep], onset_act.reshape(-1, 88)[:n_keep]


def transcribe(
    audio: np.ndarray, sr: int = SAMPLE_RATE, config: NoteExtraction | None = None
) -> list[NoteEvent]:
    """Notes heard in ``audio``, sorted by onset then pitch."""
    times, note_act, onset_act = activations(audio, sr)
    return extract_notes(times, note_act, onset_act, config or NoteExtraction())


def extract_notes(
    times: np.ndarray, note_act: np.ndarray, onset_act: np.ndarray, config: NoteExtraction
) -> list[NoteEvent]:
    """Onset peaks per key (from the onset head, or inferred from note-activation rises), each extended
    while the key's note activation holds."""
    if len(times) < 3:
        return []
    rise = np.zeros_like(note_act)
    rise[2:] = note_act[2:] - note_act[:-2]
    strength = np.maximum(onset_act, np.where(rise >= config.inferred_onset_rise, rise, 0.0))
    is_peak = np.zeros_like(strength, dtype=bool)
    is_peak[1:-1] = (strength[1:-1] >= strength[:-2]) & (strength[1:-1] > strength[2:])
    is_peak &= strength >= config.onset_threshold
    frame_s = MODEL_HOP / MODEL_SR
    min_frames = max(1, int(round(config.min_note_s / frame_s)))
    events: list[NoteEvent] = []
    for key in range(note_act.shape[1]):
        starts = np.flatnonzero(is_peak[:, key])
        for n, start in enumerate(starts.tolist()):
            limit = int(starts[n + 1]) if n + 1 < len(starts) else len(times)
            end = _note_end(note_act[:, key], start, limit, config)
            if end - start < min_frames:
                continue
            confidence = float(np.mean(note_act[start:end, key]))
            if confidence < config.min_confidence:
                continue
            offset_s = float(times[end - 1] + frame_s)
            events.append(NoteEvent(float(times[start]), offset_s, LOWEST_MIDI + key, confidence))
    events.sort(key=lambda e: (e.onset_s, e.midi))
    return events


def _note_end(activation: np.ndarray, start: int, limit: int, config: NoteExtraction) -> int:
    """First frame after ``start`` where the activation has stayed below threshold for ``gap_frames``."""
    below = 0
    i = start + 1
    while i < limit:
        below = below + 1 if activation[i] < config.frame_threshold else 0
        if below > config.gap_frames:
            return i - below + 1
        i += 1
    return i - below
