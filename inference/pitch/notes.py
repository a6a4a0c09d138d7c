"""From a whole-take pitch track to played notes (offline, non-causal): where each note starts and ends.

A note ends at silence (two or more unvoiced hops), at a change to another stable pitch, or at a clear onset
peak inside a run of one pitch (a re-attack). Onset times are refined to the nearest onset-function peak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.pitch.offline import PitchTrack
from inference.types import HOP_SECONDS

MIN_NOTE_HOPS = 3
PITCH_CHANGE_SEMITONES = 0.5
REATTACK_PEAK = 0.5
"""Onset strength (0..1, see ``offline.onset_strength``) that splits a run of one pitch into two notes; the
peak must also be ``REATTACK_PROMINENCE`` times the run's median strength. Kept high: a missed re-attack is
recovered by the score-informed split in ``inference.alignment``, a false one would be called an extra note."""
REATTACK_PROMINENCE = 3.0
REATTACK_MIN_S = 0.08
SNAP_BEFORE_S = 0.06
SNAP_AFTER_S = 0.03


@dataclass(frozen=True)
class PlayedNote:
    """A note heard in the take: seconds from its start, sounding frequency, 0..1 confidence."""

    onset_s: float
    offset_s: float
    hz: float
    confidence: float = 1.0

    @property
    def duration_s(self) -> float:
        return self.offset_s - self.onset_s


def segment_notes(track: PitchTrack, onsets: np.ndarray) -> list[PlayedNote]:
    """Played notes of a monophonic take from its pitch track and onset strength (same hops)."""
    midi = np.where(track.f0_hz > 0, 69.0 + 12.0 * np.log2(np.maximum(track.f0_hz, 1e-9) / 440.0), np.nan)
    peaks = _peaks(onsets)
    bounds = _boundaries(midi, onsets, peaks[onsets[peaks] >= REATTACK_PEAK])
    notes: list[PlayedNote] = []
    for start, end in bounds:
        if end - start < MIN_NOTE_HOPS:
            continue
        core = midi[start + 2 : end] if end - start > 5 else midi[start:end]
        core = core[np.isfinite(core)]
        if core.size == 0:
            continue
        onset_s = _snap(track.times[start] - HOP_SECONDS / 2, peaks, track.times)
        hz = float(440.0 * 2.0 ** ((np.median(core) - 69.0) / 12.0))
        confidence = float(np.mean(np.isfinite(midi[start:end]) * track.voicing[start:end]))
        offset_s = float(track.times[end - 1] + HOP_SECONDS / 2)
        previous = notes[-1] if notes else None
        if previous is not None and _is_continuation(previous, onset_s, offset_s, hz):
            notes[-1] = PlayedNote(previous.onset_s, offset_s, previous.hz, previous.confidence)
            continue
        notes.append(PlayedNote(onset_s, offset_s, hz, confidence))
    return notes


def _is_continuation(previous: PlayedNote, onset_s: float, offset_s: float, hz: float) -> bool:
    """A short fragment right after a note at its pitch is a wobble of that note, not a new one."""
    same_pitch = abs(12.0 * np.log2(hz / previous.hz)) < PITCH_CHANGE_SEMITONES
    return same_pitch and onset_s - previous.offset_s < 2 * HOP_SECONDS and offset_s - onset_s < REATTACK_MIN_S


def split_note(note: PlayedNote, at_s: float) -> tuple[PlayedNote, PlayedNote]:
    """Two notes of the same pitch, the second starting at ``at_s`` (a re-attack the tracker could not hear)."""
    return (
        PlayedNote(note.onset_s, at_s, note.hz, note.confidence),
        PlayedNote(at_s, note.offset_s, note.hz, note.confidence),
    )


def _peaks(onsets: np.ndarray) -> np.ndarray:
    """Indices of local maxima of the onset function that stand out from their surroundings."""
    if onsets.size < 3:
        return np.zeros(0, dtype=int)
    is_peak = np.zeros(onsets.size, dtype=bool)
    is_peak[1:-1] = (onsets[1:-1] >= onsets[:-2]) & (onsets[1:-1] > onsets[2:])
    return np.flatnonzero(is_peak & (onsets >= 0.1))


def _boundaries(midi: np.ndarray, onsets: np.ndarray, peaks: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) hop ranges of notes."""
    strong = {int(p) for p in peaks}
    bounds: list[tuple[int, int]] = []
    start: int | None = None
    unvoiced = 0
    for i, value in enumerate(midi):
        if not np.isfinite(value):
            unvoiced += 1
            if start is not None and unvoiced >= 2:
                bounds.append((start, i - unvoiced + 1))
                start = None
            continue
        unvoiced = 0
        if start is None:
            start = i
            continue
        current = np.nanmedian(midi[max(start, i - 5) : i])
        is_stable_change = (
            abs(value - current) > PITCH_CHANGE_SEMITONES
            and i + 1 < len(midi)
            and np.isfinite(midi[i + 1])
            and abs(midi[i + 1] - value) < PITCH_CHANGE_SEMITONES
        )
        is_reattack = (
            i in strong
            and (i - start) * HOP_SECONDS >= REATTACK_MIN_S
            and onsets[i] >= REATTACK_PROMINENCE * float(np.median(onsets[start:i]))
        )
        if is_stable_change or is_reattack:
            bounds.append((start, i))
            start = i
    if start is not None:
        bounds.append((start, len(midi) - unvoiced))
    return bounds


def _snap(onset_s: float, peaks: np.ndarray, times: np.ndarray) -> float:
    """The onset-function peak just before or at ``onset_s`` when there is one, else ``onset_s``."""
    if peaks.size == 0:
        return onset_s
    peak_times = times[peaks] - HOP_SECONDS / 2
    near = peak_times[(peak_times >= onset_s - SNAP_BEFORE_S) & (peak_times <= onset_s + SNAP_AFTER_S)]
    return float(near[np.argmin(np.abs(near - onset_s))]) if near.size else onset_s
