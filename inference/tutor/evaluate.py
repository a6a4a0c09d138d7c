"""Roll a policy out over a simulated population and measure how well it teaches.

Per learner: normalised gain after ``GAIN_AFTER`` exercises (Hake's (post - pre) / (1 - pre) on the hidden
post-test), exercises until the post-test first reaches ``MASTERY_POST_TEST`` (learners who never get there,
including those who quit, count as ``horizon``: a restricted mean), whether they quit before mastery, and the
share of their takes whose chance of success lay in the just-right band.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from inference.tutor.exercises import Catalogue, simulated_catalogue
from inference.tutor.history import LearnerHistory
from inference.tutor.policies import Policy, TutorObs
from inference.tutor.simulators import JUST_RIGHT, MASTERY_POST_TEST, make_simulator

GAIN_AFTER = 50
HORIZON = 200


@dataclass
class LearnerOutcomes:
    """One row per simulated learner."""

    gain: np.ndarray
    exercises_to_mastery: np.ndarray
    is_mastered: np.ndarray
    has_dropped_out: np.ndarray
    just_right_share: np.ndarray

    @classmethod
    def concat(cls, parts: list[LearnerOutcomes]) -> LearnerOutcomes:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__))


def run_population(
    policy: Policy,
    family: str,
    *,
    n_learners: int,
    seed: int,
    catalogue: Catalogue | None = None,
    horizon: int = HORIZON,
) -> LearnerOutcomes:
    """Teach ``n_learners`` simulated learners of ``family`` with ``policy`` for up to ``horizon`` takes."""
    rng = np.random.default_rng(seed)
    catalogue = catalogue or simulated_catalogue(rng)
    sim = make_simulator(family, catalogue, n_learners, seed)
    history = LearnerHistory(n_learners, len(catalogue))
    obs = TutorObs.full(catalogue, history)
    pre = sim.oracle_post_test()
    post_at_gain = pre.copy()
    mastered_at = np.full(n_learners, np.nan)
    dropped = np.zeros(n_learners, dtype=bool)
    in_band = np.zeros(n_learners)
    takes = np.zeros(n_learners)
    for t in range(horizon):
        active = sim.is_active.copy()
        if not active.any():
            break
        actions = policy.act(obs)
        success = sim.oracle_success(actions)
        in_band += active & (success >= JUST_RIGHT[0]) & (success <= JUST_RIGHT[1])
        takes += active
        seen = sim.step(actions)
        reward = history.record(actions, seen.accuracy, seen.timing_error_ms, seen.tempo_reached, seen.rating, active)
        policy.learn(obs, actions, reward)
        post = sim.oracle_post_test()
        newly = np.isnan(mastered_at) & active & (post >= MASTERY_POST_TEST)
        mastered_at[newly] = t + 1
        dropped |= seen.has_quit & np.isnan(mastered_at)
        if t + 1 <= GAIN_AFTER:
            post_at_gain = np.where(active, post, post_at_gain)
        if t + 1 >= GAIN_AFTER:  # learners who have mastered the course and done 50 takes are finished
            sim.is_active &= np.isnan(mastered_at)
    gain = (post_at_gain - pre) / np.maximum(1e-9, 1.0 - pre)
    return LearnerOutcomes(
        gain=gain,
        exercises_to_mastery=np.where(np.isnan(mastered_at), horizon, mastered_at),
        is_mastered=~np.isnan(mastered_at),
        has_dropped_out=dropped,
        just_right_share=in_band / np.maximum(1.0, takes),
    )


def bootstrap_ci(values: np.ndarray, seed: int = 0, n_boot: int = 1000, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean."""
    rng = np.random.default_rng(seed)
    values = np.asarray(values, dtype=float)
    means = np.empty(n_boot)
    for b in range(0, n_boot, 100):  # in chunks: 100 x n indices at a time
        idx = rng.integers(0, len(values), (min(100, n_boot - b), len(values)))
        means[b : b + len(idx)] = values[idx].mean(axis=1)
    tail = (1 - level) / 2 * 100
    return float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))


def summarise(outcomes: LearnerOutcomes, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Mean and 95 % bootstrap interval of each measure."""
    measures = {
        "normalised_gain": outcomes.gain,
        "exercises_to_mastery": outcomes.exercises_to_mastery,
        "mastered": outcomes.is_mastered.astype(float),
        "dropout": outcomes.has_dropped_out.astype(float),
        "just_right_share": outcomes.just_right_share,
    }
    out = {}
    for name, values in measures.items():
        low, high = bootstrap_ci(values, seed)
        out[name] = {"mean": round(float(np.mean(values)), 4), "ci95": [round(low, 4), round(high, 4)]}
    return out
