"""Pitch trackers: callables fed one hop at a time that return a ``PitchFrame``."""

from __future__ import annotations

from inference.pitch.yin import YinConfig, YinTracker

__all__ = ["YinConfig", "YinTracker", "hz_to_midi", "midi_to_hz"]


def hz_to_midi(f0_hz: float, a4_hz: float = 440.0) -> float:
    """Fractional MIDI number of a frequency (69.0 is A4 at ``a4_hz``); NaN for non-positive input."""
    import math

    if f0_hz <= 0.0:
        return math.nan
    return 69.0 + 12.0 * math.log2(f0_hz / a4_hz)


def midi_to_hz(midi: float, a4_hz: float = 440.0) -> float:
    """Frequency of a (fractional) MIDI number."""
    return float(a4_hz * 2.0 ** ((midi - 69.0) / 12.0))
