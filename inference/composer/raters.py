"""Simulated raters with a hidden taste, standing in for learners in the composer benchmark and tests.

A taste is a target value and a weight for each melody feature (in-key ratio, stepwise motion, range,
rhythmic density, tonic ending, repetition). A track's score is the weighted closeness of its features to
the targets, in [0, 1]; the rating is a clipped, rounded, noisy function of that score. Kinds differ in how
they turn the score into a rating: ``steady`` (little noise), ``noisy``, ``compressed`` (uses only the
middle of the scale) and ``drifting`` (the taste wanders as they listen).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from inference.composer.features import FEATURE_NAMES, melody_features
from inference.composer.track import Track, TrackParams

RATER_KINDS = ("steady", "noisy", "compressed", "drifting")
TOLERANCES = np.array([0.5, 0.5, 8.0, 1.5, 1.0, 0.5])
"""How far a feature may be from its target before it earns nothing (same order as ``FEATURE_NAMES``)."""
SCORE_EXPONENT = 1.5
"""Raters are hard to please: the score is raised to this power before it is mapped onto 1-10."""


@dataclass(frozen=True)
class Taste:
    weights: np.ndarray
    targets: np.ndarray

    def score(self, track: Track, params: TrackParams) -> float:
        values = np.array(melody_features(track, params).as_tuple())
        closeness = np.clip(1.0 - np.abs(values - self.targets) / TOLERANCES, 0.0, 1.0)
        return float(np.dot(self.weights, closeness) / self.weights.sum())

    def describe(self) -> dict[str, tuple[float, float]]:
        """Feature name -> (weight, target), for reports."""
        w = self.weights / self.weights.sum()
        return {name: (round(float(w[i]), 3), round(float(self.targets[i]), 2)) for i, name in enumerate(FEATURE_NAMES)}


def sample_taste(rng: np.random.Generator) -> Taste:
    """A random taste: weights from a Dirichlet, targets from musically plausible ranges."""
    weights = rng.dirichlet(np.full(len(FEATURE_NAMES), 2.0))
    targets = np.array(
        [
            1.0,  # in key
            rng.uniform(0.5, 1.0),  # stepwise share
            rng.uniform(4.0, 12.0),  # range in semitones
            rng.uniform(1.0, 3.0),  # notes per beat
            1.0 if rng.random() < 0.8 else 0.0,  # tonic ending (a fifth of raters prefer open endings)
            rng.uniform(0.0, 0.5),  # repeated interval pairs
        ]
    )
    return Taste(weights, targets)


class SimulatedRater:
    """Rates tracks 1-10 from a hidden taste; deterministic for a seed."""

    def __init__(self, kind: str, seed: int) -> None:
        if kind not in RATER_KINDS:
            raise ValueError(f"unknown rater kind {kind!r}; choose one of {RATER_KINDS}")
        self.kind = kind
        self.rng = np.random.default_rng(seed)
        self.taste = sample_taste(self.rng)

    def score(self, track: Track, params: TrackParams) -> float:
        """The hidden quality in [0, 1] (the benchmark uses it to check credit assignment)."""
        return self.taste.score(track, params)

    def rate(self, track: Track, params: TrackParams) -> int:
        quality = self.score(track, params) ** SCORE_EXPONENT
        if self.kind == "compressed":
            raw = 3.0 + 4.0 * quality + self.rng.normal(0.0, 0.5)
        else:
            sd = 1.5 if self.kind == "noisy" else 0.5
            raw = 1.0 + 9.0 * quality + self.rng.normal(0.0, sd)
        if self.kind == "drifting":
            self._drift()
        return int(np.clip(round(raw), 1, 10))

    def _drift(self) -> None:
        weights = self.taste.weights * np.exp(self.rng.normal(0.0, 0.05, len(FEATURE_NAMES)))
        targets = self.taste.targets + self.rng.normal(0.0, 0.01, len(FEATURE_NAMES)) * TOLERANCES
        targets[0], targets[4] = self.taste.targets[0], self.taste.targets[4]
        self.taste = replace(self.taste, weights=weights, targets=targets)
