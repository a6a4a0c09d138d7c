"""Finding the performer again after a far jump: a restart from an earlier bar, skipped bars, a repeat.

``NoteHistory`` turns the stream of pitch frames into the last few played notes (runs of stable voiced
pitch, split at pitch changes and re-attacks). ``Relocator.find`` looks for the newest notes as a contiguous
run of onset groups anywhere in the score (a note matches a group when it equals one of the group's pitches,
an octave error allowed), so the follower can re-seed its belief there instead of drifting in a band
around a position that no longer explains what it hears.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from inference.following.onsets import OnsetGroup
from inference.types import PitchFrame

MIN_NOTE_HOPS = 3
"""A note is a run of at least this many voiced hops (60 ms) at one pitch."""
SAME_NOTE_SEMITONES = 0.6


class NoteHistory:
    """The pitches (fractional MIDI) of the last ``size`` notes heard, oldest first."""

    def __init__(self, size: int = 8, a4_hz: float = 440.0) -> None:
        self.a4_hz = a4_hz
        self.notes: deque[float] = deque(maxlen=size)
        self._run: list[float] = []
        self.notes_seen = 0

    def reset(self) -> None:
        self.notes.clear()
        self._run = []
        self.notes_seen = 0

    def add(self, pitch: PitchFrame) -> bool:
        """Feed one hop; True when it completed a new note."""
        if pitch.f0_hz <= 0.0 or pitch.voicing < 0.6:
            return self._close()
        midi = 69.0 + 12.0 * float(np.log2(pitch.f0_hz / self.a4_hz))
        is_new = self._run and (abs(midi - float(np.median(self._run))) > SAME_NOTE_SEMITONES or pitch.onset > 0.6)
        closed = self._close() if is_new else False
        self._run.append(midi)
        if len(self._run) == MIN_NOTE_HOPS:  # count the note as soon as it is stable, not when it ends
            self.notes.append(float(np.median(self._run)))
            self.notes_seen += 1
            return True
        return closed

    def _close(self) -> bool:
        self._run = []
        return False


class Relocator:
    """Where in the score a sequence of played notes occurs; the score's pitches are flattened once."""

    def __init__(self, groups: Sequence[OnsetGroup], transpose: float = 0.0) -> None:
        pitches = [np.asarray(g.midis, dtype=float) + transpose for g in groups]
        self._flat = np.concatenate(pitches)
        self._owner = np.repeat(np.arange(len(groups)), [len(p) for p in pitches])
        self.n_groups = len(groups)

    def matches(self, note_midi: float) -> np.ndarray:
        """Per group: 1 when the note is one of its pitches, 0.5 an octave off, else 0."""
        distance = np.abs(note_midi - self._flat)
        score = np.where(distance < SAME_NOTE_SEMITONES, 1.0, 0.0)
        score = np.maximum(score, np.where(np.abs(distance - 12.0) < SAME_NOTE_SEMITONES, 0.5, 0.0))
        best = np.zeros(self.n_groups)
        np.maximum.at(best, self._owner, score)
        return best

    def find(self, notes: Sequence[float], near: int, min_notes: int = 4) -> int | None:
        """The group of the newest note if the last ``min_notes``+ notes occur as consecutive groups; else None.

        Candidates are scored by how many of the newest notes match in a row (up to all of ``notes``); among
        equally good candidates (repeated material) the one nearest to ``near`` wins.
        """
        if len(notes) < min_notes:
            return None
        n_groups = self.n_groups
        run = np.zeros(n_groups)  # how many of the newest notes match, ending at each group
        alive = np.ones(n_groups, dtype=bool)
        for back, midi in enumerate(reversed(notes)):
            match = self.matches(midi)
            shifted = np.zeros(n_groups)
            if back < n_groups:
                shifted[back:] = match[: n_groups - back]  # the note ``back`` places before group e is at e - back
            alive &= shifted >= 0.5
            run += np.where(alive, shifted, 0.0)
        best = float(run.max())
        if best < min_notes - 0.5:
            return None
        candidates = np.flatnonzero(run >= best - 0.25)
        return int(candidates[np.argmin(np.abs(candidates - near))])
