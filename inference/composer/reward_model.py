"""A learned model of one learner's ratings, for model-based (Dyna-style) planning of the composer's edits.

Bayesian linear regression of the rating on a piecewise-linear basis over melody features the agent computes
itself (``melody_features``: in-key share, stepwise share, range, notes per beat, tonic ending, repetition).
The prior comes from the population of earlier learners: a hierarchical (random-effects) linear model fitted
by expectation-maximisation over their sufficient statistics, so a new learner starts from what listeners
usually like and how much they differ, and their own ratings move the model from there. With no population
yet, a weak generic prior says nothing about taste.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from inference.composer.features import melody_features
from inference.composer.track import Track, TrackParams

MODEL_FORMAT_VERSION = 1
KNOTS: dict[str, tuple[float, ...]] = {
    "stepwise": (0.25, 0.5, 0.75),
    "range_semitones": (4.0, 7.0, 10.0, 14.0),
    "density": (1.25, 1.75, 2.5),
    "repetition": (0.15, 0.3),
}
"""Hinge positions of the linear spline over each continuous feature: tastes peak somewhere in the middle."""
SCALES = {"stepwise": 1.0, "range_semitones": 12.0, "density": 3.0, "repetition": 1.0}
BASIS_NAMES = (
    "intercept",
    "in_key",
    "tonic_end",
    *(f"{name}>{knot:g}" if knot else name for name, knots in KNOTS.items() for knot in (0.0, *knots)),
)
DIMENSIONS = len(BASIS_NAMES)
GENERIC_INTERCEPT = (5.5, 3.0)
"""Prior mean and standard deviation of the intercept with no population: the middle of the 1-10 scale."""
GENERIC_SLOPE_SD = 3.0
DEFAULT_NOISE_SD = 1.0
MIN_NOISE_SD = 0.5


def taste_basis(track: Track, params: TrackParams) -> np.ndarray:
    """The regression inputs for ``track``: intercept, in-key share, tonic ending and linear splines."""
    return np.array(_basis(track, params))


@lru_cache(maxsize=16384)
def _basis(track: Track, params: TrackParams) -> tuple[float, ...]:
    features = melody_features(track, params)
    values = [1.0, features.in_key, features.tonic_end]
    for name, knots in KNOTS.items():
        value = float(getattr(features, name))
        values.append(value / SCALES[name])
        values.extend(max(0.0, value - knot) / SCALES[name] for knot in knots)
    return tuple(values)


@dataclass(frozen=True)
class Prior:
    """Gaussian prior over the regression weights and the rating noise, from a population or generic."""

    mean: np.ndarray
    cov: np.ndarray
    noise_sd: float = DEFAULT_NOISE_SD
    learners: int = 0
    """How many earlier learners it was fitted on (0: the generic prior)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "mean": [round(float(v), 5) for v in self.mean],
            "cov": [[round(float(v), 6) for v in row] for row in self.cov],
            "noise_sd": round(self.noise_sd, 4),
            "learners": self.learners,
        }

    @classmethod
    def from_json(cls, data: Any) -> Prior:
        mean, cov = _array(data["mean"], (DIMENSIONS,)), _array(data["cov"], (DIMENSIONS, DIMENSIONS))
        return cls(mean, cov, float(data["noise_sd"]), int(data["learners"]))


def generic_prior() -> Prior:
    """No population yet: a rating near the middle of the scale, and any feature may matter either way."""
    mean = np.zeros(DIMENSIONS)
    mean[0] = GENERIC_INTERCEPT[0]
    sds = np.full(DIMENSIONS, GENERIC_SLOPE_SD)
    sds[0] = GENERIC_INTERCEPT[1]
    return Prior(mean, np.diag(sds**2))


@dataclass(frozen=True)
class LearnerStats:
    """Sufficient statistics of one learner's (basis, rating) pairs: X'X, X'y, n and y'y."""

    xx: np.ndarray
    xy: np.ndarray
    n: float
    yy: float


class RewardModel:
    """Bayesian linear regression of one learner's ratings; ``forget`` < 1 discounts old ratings (drifting taste)."""

    def __init__(self, prior: Prior | None = None, forget: float = 1.0) -> None:
        self.prior = prior or generic_prior()
        self.forget = forget
        self.stats = LearnerStats(np.zeros((DIMENSIONS, DIMENSIONS)), np.zeros(DIMENSIONS), 0.0, 0.0)
        self._posterior: tuple[np.ndarray, np.ndarray] | None = None

    def observe(self, x: np.ndarray, rating: float) -> None:
        f, s = self.forget, self.stats
        self.stats = LearnerStats(f * s.xx + np.outer(x, x), f * s.xy + rating * x, f * s.n + 1, f * s.yy + rating**2)
        self.invalidate()

    def invalidate(self) -> None:
        """Forget the cached posterior (after the prior or the statistics were replaced)."""
        self._posterior = None

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance of the weights given the prior and the learner's ratings."""
        if self._posterior is None:
            precision = np.linalg.inv(self.prior.cov)
            noise_var = self.prior.noise_sd**2
            cov = np.linalg.inv(precision + self.stats.xx / noise_var)
            mean = cov @ (precision @ self.prior.mean + self.stats.xy / noise_var)
            self._posterior = (mean, cov)
        return self._posterior

    def predict(self, basis: np.ndarray) -> np.ndarray:
        """Posterior mean rating of each row of ``basis``."""
        return np.asarray(basis @ self.posterior()[0])

    def to_json(self) -> dict[str, Any]:
        s = self.stats
        return {
            "version": MODEL_FORMAT_VERSION,
            "prior": self.prior.to_json(),
            "forget": self.forget,
            "xx": [[round(float(v), 6) for v in row] for row in s.xx],
            "xy": [round(float(v), 6) for v in s.xy],
            "n": round(s.n, 6),
            "yy": round(s.yy, 6),
        }

    @classmethod
    def from_json(cls, data: Any) -> RewardModel:
        """Rebuild a model from ``to_json`` output; raises ``ValueError`` on anything else."""
        if not isinstance(data, dict) or data.get("version") != MODEL_FORMAT_VERSION:
            raise ValueError(f"not a version-{MODEL_FORMAT_VERSION} reward model")
        try:
            model = cls(Prior.from_json(data["prior"]), float(data["forget"]))
            xx, xy = _array(data["xx"], (DIMENSIONS, DIMENSIONS)), _array(data["xy"], (DIMENSIONS,))
            model.stats = LearnerStats(xx, xy, float(data["n"]), float(data["yy"]))
            model.invalidate()
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed reward model: {exc}") from exc
        return model


def _array(values: Any, shape: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.shape != shape or not np.all(np.isfinite(array)):
        raise ValueError(f"expected finite numbers of shape {shape}")
    return array


def fit_population_prior(learners: Sequence[LearnerStats], iterations: int = 30) -> Prior:
    """The prior for a new learner from earlier learners' statistics (random-effects regression by EM).

    Each learner's weights are drawn from N(mean, cov); the E-step finds every learner's posterior, the M-step
    sets the mean and covariance of the population and the rating noise. Learners with no ratings are skipped;
    with none left the generic prior is returned.
    """
    learners = [s for s in learners if s.n >= 1]
    if not learners:
        return generic_prior()
    xx = np.stack([s.xx for s in learners])
    xy = np.stack([s.xy for s in learners])
    n_total, yy_total = sum(s.n for s in learners), sum(s.yy for s in learners)
    prior = generic_prior()
    mean, cov, noise_var = prior.mean, prior.cov, DEFAULT_NOISE_SD**2
    for _ in range(iterations):
        precision = np.linalg.inv(cov)
        post_cov = np.linalg.inv(precision[None] + xx / noise_var)
        post_mean = np.einsum("lij,lj->li", post_cov, (precision @ mean)[None] + xy / noise_var)
        mean = post_mean.mean(axis=0)
        spread = post_mean - mean
        cov = (spread.T @ spread + post_cov.sum(axis=0)) / len(learners) + 1e-4 * np.eye(DIMENSIONS)
        residual = (
            yy_total
            - 2 * np.einsum("li,li->", post_mean, xy)
            + np.einsum("li,lij,lj->", post_mean, xx, post_mean)
            + np.einsum("lij,lji->", xx, post_cov)
        )
        noise_var = max(residual / n_total, MIN_NOISE_SD**2)
    return Prior(mean, cov, math.sqrt(noise_var), len(learners))
