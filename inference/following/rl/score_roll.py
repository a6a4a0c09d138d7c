"""The agent's eye, symbolic variant: the score drawn as the spectrogram it should sound like.

Columns run along score time at the written tempo (``COLS_PER_SECOND``); rows are the same 78 semitone
bands as ``features``. A note paints its fundamental and a few decaying harmonics from onset to offset,
brighter at the attack, so that audio and score share a frequency axis and the policy only has to learn the
time alignment. The image variant (Verovio-engraved staff) in ``score_image`` offers the same ``window``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from inference.following.onsets import OnsetGroup, group_onsets
from inference.following.rl.features import FRAME_SECONDS, LOWEST_MIDI, N_BINS
from inference.types import ScoreNote

COLS_PER_SECOND = 100
"""Score-axis resolution: columns per second of music at the written tempo."""
NOMINAL_SPEED = COLS_PER_SECOND * FRAME_SECONDS
"""Columns per spectrogram frame when the performer plays at the written tempo (4.0)."""
WINDOW_COLS = 160
"""Width of the score excerpt the agent sees, centred on its position."""
DOWNSAMPLE = 4
"""The excerpt is averaged over groups of this many columns before it reaches the network."""
VIEW_COLS = WINDOW_COLS // DOWNSAMPLE
HARMONICS: tuple[tuple[int, float], ...] = ((0, 1.0), (12, 0.5), (19, 0.35), (24, 0.25), (28, 0.15))
"""(semitones above the fundamental, weight) of the painted partials."""
ATTACK_COLS = 6
SUSTAIN_LEVEL = 0.5
REST_LEVEL = 0.1
"""A rest is drawn as the notes before it fading on at this level: pianos are pedalled and rooms ring, so
what is heard in a rest is the previous chord. Drawn empty, a rest made the agent stop there (issue 7)."""


class ScoreRoll:
    """Symbolic score view of ``notes``; positions are column numbers (floats allowed).

    ``tempo_factor`` (performed over written tempo, as the performer was told) scales the score axis, so
    that the agent's nominal speed is the told tempo: a slow piece is drawn stretched, not read slowly.
    """

    def __init__(self, notes: Sequence[ScoreNote], tempo_factor: float = 1.0) -> None:
        if not notes:
            raise ValueError("a score roll needs at least one note")
        if tempo_factor <= 0:
            raise ValueError(f"tempo_factor must be positive, got {tempo_factor}")
        self.groups: list[OnsetGroup] = group_onsets(notes)
        self.cols_per_second = COLS_PER_SECOND / tempo_factor
        """Columns per written second."""
        self.onset_cols = np.array([g.onset_s * self.cols_per_second for g in self.groups])
        end_s = max(n.onset_s + n.duration_s for n in notes)
        self.n_cols = int(np.ceil(end_s * self.cols_per_second)) + 1
        self._pad = WINDOW_COLS
        self.image = np.zeros((N_BINS, self.n_cols + 2 * self._pad), dtype=np.float32)
        onsets = np.unique([n.onset_s for n in notes])
        for note in notes:
            self._paint(note, onsets)
        np.clip(self.image, 0.0, 1.0, out=self.image)

    def _paint(self, note: ScoreNote, onsets: np.ndarray) -> None:
        """The note from onset to offset, then at ``REST_LEVEL`` through any rest up to the next onset."""
        end_s = note.onset_s + note.duration_s
        start = self._pad + int(round(note.onset_s * self.cols_per_second))
        stop = max(start + 2, self._pad + int(round(end_s * self.cols_per_second)))
        following = onsets[onsets > end_s + 1e-6]
        # The last column before the next onset stays dark, so that the onset still rises out of the rest.
        rest_stop = self._pad + int(round(following[0] * self.cols_per_second)) - 1 if len(following) else stop
        envelope = np.full(max(stop, rest_stop) - start, SUSTAIN_LEVEL, dtype=np.float32)
        envelope[:ATTACK_COLS] = 1.0
        envelope[stop - start - 1 :] = REST_LEVEL
        if rest_stop <= stop:
            envelope[-1] = 0.0  # a gap between repeated notes
        for semitones, weight in HARMONICS:
            row = note.midi + semitones - LOWEST_MIDI
            if 0 <= row < N_BINS:
                segment = self.image[row, start : start + envelope.size]
                np.maximum(segment, weight * envelope[: segment.size], out=segment)

    def window(self, position: float) -> np.ndarray:
        """(N_BINS, VIEW_COLS) excerpt centred on ``position`` (zeros beyond the score's ends)."""
        centre = int(round(float(np.clip(position, -self._pad / 2, self.n_cols + self._pad / 2)))) + self._pad
        excerpt = self.image[:, centre - WINDOW_COLS // 2 : centre + WINDOW_COLS // 2]
        return excerpt.reshape(N_BINS, VIEW_COLS, DOWNSAMPLE).mean(axis=2)

    def group_at(self, position: float) -> int:
        """Index of the last onset group at or before ``position``; -1 before the first."""
        return int(np.searchsorted(self.onset_cols, position + 1e-6, side="right")) - 1
