"""Melody features the simulated raters judge by, and the n-grams that measure diversity."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from functools import lru_cache

from inference.composer.track import Track, TrackParams, scale_degree

STEP_SEMITONES = 2
"""Intervals up to a whole tone count as stepwise motion."""


@dataclass(frozen=True)
class MelodyFeatures:
    in_key: float
    """Share of notes in the scale."""
    stepwise: float
    """Share of intervals that are a semitone or a tone (repeated notes are not steps)."""
    range_semitones: float
    density: float
    """Notes per beat."""
    tonic_end: float
    """1 when the last note is the tonic (any octave)."""
    repetition: float
    """Share of interval pairs that repeat an earlier pair: motifs coming back."""

    def as_tuple(self) -> tuple[float, ...]:
        return astuple(self)


FEATURE_NAMES = tuple(MelodyFeatures.__dataclass_fields__)


@lru_cache(maxsize=8192)
def melody_features(track: Track, params: TrackParams) -> MelodyFeatures:
    """Features of ``track`` (cached: agents and raters ask about the same tracks many times)."""
    pitches = track.pitches
    intervals = [b - a for a, b in zip(pitches, pitches[1:], strict=False)]
    steps = sum(1 for d in intervals if 0 < abs(d) <= STEP_SEMITONES)
    pairs = list(zip(intervals, intervals[1:], strict=False))
    repeated = len(pairs) - len(set(pairs))  # every occurrence of a pair after its first
    return MelodyFeatures(
        in_key=sum(1 for p in pitches if params.in_scale(p)) / len(pitches),
        stepwise=steps / max(1, len(intervals)),
        range_semitones=float(max(pitches) - min(pitches)),
        density=len(pitches) / max(track.total_beats, 1e-9),
        tonic_end=1.0 if pitches[-1] % 12 == params.tonic_class else 0.0,
        repetition=repeated / max(1, len(pairs)),
    )


def degree_ngrams(track: Track, params: TrackParams, n: int = 4) -> list[tuple[float, ...]]:
    """Scale-degree n-grams relative to the base note, so the same tune in another key counts as the same."""
    degrees = [scale_degree(p, params) for p in track.pitches]
    return [tuple(degrees[i : i + n]) for i in range(len(degrees) - n + 1)]


def distinct_ngram_ratio(tracks: list[Track], params: TrackParams, n: int = 4) -> float:
    """Distinct n-grams over all n-grams across ``tracks``: 1.0 when nothing repeats, low on collapse."""
    grams = [g for track in tracks for g in degree_ngrams(track, params, n)]
    return len(set(grams)) / len(grams) if grams else 0.0
