"""Common fundamentals: the pitch an autocorrelation tracker often reports while two notes sound together.

YIN's period estimate locks onto the period both notes share: during a legato crossfade (the new note's attack
over the old one's release) or a double stop it reads their common fundamental, a simple frequency ratio p/q
below them (E4 → B4 reads as E3; G♯4 + B4 as E2). The ``hmm`` follower lets such a pitch match the notes.
"""

from __future__ import annotations

import numpy as np


def common_fundamentals(midis: np.ndarray, max_harmonic: int = 6, tolerance_cents: float = 25.0) -> np.ndarray:
    """Per note, the MIDI pitch of the common fundamental of it and the note before, where the interval is a
    simple frequency ratio p/q (p, q ≤ ``max_harmonic``, q ≥ 2); NaN otherwise."""
    ratios = [  # (interval in cents, semitones from the lower-indexed note down to the common fundamental)
        (1200.0 * np.log2(p / q), 12.0 * np.log2(q))
        for q in range(2, max_harmonic + 1)
        for p in range(1, max_harmonic + 1)
        if np.gcd(p, q) == 1
    ]
    out = np.full(len(midis), np.nan)
    for j in range(1, len(midis)):
        cents = (midis[j] - midis[j - 1]) * 100.0
        below = next((down for interval, down in ratios if abs(cents - interval) < tolerance_cents), None)
        if below is not None:
            out[j] = midis[j - 1] - below
    return out


def chord_fundamental(midis: tuple[int, ...] | tuple[float, ...]) -> float:
    """The common fundamental of a chord's two lowest pitches (a double stop G#4 + B4: E2), which is what an
    autocorrelation tracker often reports while both sound; NaN for a single pitch or no simple ratio."""
    pitches = sorted(set(float(m) for m in midis))
    if len(pitches) < 2:
        return float("nan")
    return float(common_fundamentals(np.array(pitches[:2]))[1])
