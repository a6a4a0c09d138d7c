"""What Etude has observed of each learner, kept per exercise, and the features policies read from it.

Only observations of takes go in (note accuracy, timing error, tempo reached, rating); the simulators' hidden
skills never do. The same class serves the benchmark (thousands of learners at once) and the product (one
learner, saved as JSON between requests).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inference.tutor.exercises import FULL_TEMPO, KINDS, NO_HELP, TEMPO_FACTORS, Actions, Catalogue

WINDOW = 4
"""Recent take scores kept per exercise (the learning-progress bandit reads them)."""
PASS_SCORE = 0.8
"""A take at full tempo without help with at least this score counts as passing the exercise."""
ADAPT_DIM = 4
"""Size of each learner's adaptation weights (see ``policies.PPOPolicy``)."""
_PER_EXERCISE = ("attempts", "last_score", "ema_score", "last_timing", "last_completion", "last_rating",
                 "best_full", "last_seen", "last_full")


def take_score(accuracy: Any, timing_error_ms: Any, completion: Any) -> np.ndarray:
    """One number in [0, 1] for how a take went: accuracy, scaled down for loose timing and stopping early."""
    timing = np.clip(1.2 - np.asarray(timing_error_ms, dtype=float) / 250.0, 0.0, 1.0)
    return np.asarray(accuracy, dtype=float) * np.clip(np.asarray(completion, dtype=float), 0.0, 1.0) * timing


def observed_reward(score: np.ndarray, previous: np.ndarray, rating: np.ndarray) -> np.ndarray:
    """The product's reward for a decision: improvement over the last take of that exercise plus the rating.

    A first take is compared with 0.5; an unrated take (rating 0) adds nothing for the rating.
    """
    rated = np.where(rating > 0, 0.1 * (rating - 3.0), 0.0)
    return np.where(np.isnan(previous), score - 0.5, score - previous) + rated


class LearnerHistory:
    """Per-learner, per-exercise observations for ``n`` learners on one catalogue."""

    def __init__(self, n_learners: int, n_exercises: int) -> None:
        self.n, self.n_exercises = n_learners, n_exercises
        shape = (n_learners, n_exercises)
        self.attempts = np.zeros(shape)
        self.last_score = np.zeros(shape)
        self.ema_score = np.zeros(shape)
        self.last_timing = np.zeros(shape)
        self.last_completion = np.zeros(shape)
        self.last_rating = np.zeros(shape)
        self.best_full = np.zeros(shape)
        self.last_seen = np.full(shape, -1.0)
        self.last_full = np.zeros(shape)  # was the latest take of this exercise at full tempo without help
        self.window = np.full((*shape, WINDOW), np.nan)
        self.step = np.zeros(n_learners)
        self.recent = np.full((n_learners, 3), np.nan)
        self.recent_rating = np.full(n_learners, np.nan)
        self.low_streak = np.zeros(n_learners)
        self.last_exercise = np.full(n_learners, -1)
        self.last_tempo = np.full(n_learners, FULL_TEMPO)
        self.last_help = np.zeros(n_learners, dtype=np.int64)
        self.last_reward = np.zeros(n_learners)
        # Per-learner adaptation state, owned by the PPO policy.
        self.adapt_w = np.zeros((n_learners, ADAPT_DIM))
        self.adapt_grad = np.zeros((n_learners, ADAPT_DIM))
        self.adapt_baseline = np.zeros(n_learners)

    # -- recording ------------------------------------------------------------------------------------

    def record(
        self,
        actions: Actions,
        accuracy: np.ndarray,
        timing_error_ms: np.ndarray,
        tempo_reached: np.ndarray,
        rating: np.ndarray,
        is_active: np.ndarray,
    ) -> np.ndarray:
        """Add one take per active learner; returns the observed reward per learner (0 for inactive ones)."""
        idx = np.flatnonzero(is_active)
        ex, tempo_i, help_i = actions.exercise[idx], actions.tempo[idx], actions.help[idx]
        tempo = np.asarray(TEMPO_FACTORS)[tempo_i]
        completion = np.clip(tempo_reached[idx] / tempo, 0.0, 1.0)
        score = take_score(accuracy[idx], timing_error_ms[idx], completion)
        seen = self.attempts[idx, ex] > 0
        previous = np.where(seen, self.last_score[idx, ex], np.nan)
        reward = np.zeros(self.n)
        reward[idx] = observed_reward(score, previous, rating[idx])
        self.last_reward[idx] = reward[idx]
        self.ema_score[idx, ex] = np.where(seen, 0.6 * self.ema_score[idx, ex] + 0.4 * score, score)
        self.attempts[idx, ex] += 1
        self.last_score[idx, ex] = score
        self.last_timing[idx, ex] = timing_error_ms[idx]
        self.last_completion[idx, ex] = completion
        is_full = (tempo_i == FULL_TEMPO) & (help_i == NO_HELP)
        self.last_full[idx, ex] = is_full
        self.best_full[idx, ex] = np.where(is_full, np.maximum(self.best_full[idx, ex], score), self.best_full[idx, ex])
        self.last_seen[idx, ex] = self.step[idx]
        self.window[idx, ex] = np.concatenate([self.window[idx, ex, 1:], score[:, None]], axis=1)
        self.recent[idx] = np.concatenate([self.recent[idx, 1:], score[:, None]], axis=1)
        rated = rating[idx] > 0
        old = self.recent_rating[idx]
        blended = np.where(np.isnan(old), rating[idx], 0.7 * old + 0.3 * rating[idx])
        self.recent_rating[idx] = np.where(rated, blended, old)
        self.low_streak[idx] = np.where(score < 0.4, self.low_streak[idx] + 1, 0)
        self.last_exercise[idx], self.last_tempo[idx], self.last_help[idx] = ex, tempo_i, help_i
        self.step[idx] += 1
        return reward

    # -- derived views --------------------------------------------------------------------------------

    @property
    def passed(self) -> np.ndarray:
        return self.best_full >= PASS_SCORE

    def frontier(self, catalogue: Catalogue) -> np.ndarray:
        """Mean difficulty of the hardest exercise passed so far (0 when none)."""
        mean_demand = catalogue.demand.mean(axis=1)
        return np.max(np.where(self.passed, mean_demand[None, :], 0.0), axis=1)

    def ability(self, catalogue: Catalogue) -> np.ndarray:
        """A rough level on the difficulty scale: where recent takes would score about 0.6."""
        mean_demand = catalogue.demand.mean(axis=1)[None, :]
        practised = self.attempts > 0
        recency = np.where(practised, np.exp(-(self.step[:, None] - self.last_seen) / 20.0), 0.0)
        estimate = mean_demand + 0.4 * (self.ema_score - 0.6)
        weight = recency.sum(axis=1)
        level = np.sum(recency * estimate, axis=1) / np.maximum(weight, 1e-9)
        return np.where(weight > 0, np.maximum(level, self.frontier(catalogue)), 0.25)

    def features(self, catalogue: Catalogue) -> np.ndarray:
        """Policy inputs, learners x exercises x ``N_FEATURES`` (float32): the exercise, its history, the learner."""
        n, e = self.n, self.n_exercises
        mean_demand = catalogue.demand.mean(axis=1)
        ability, frontier = self.ability(catalogue), self.frontier(catalogue)
        practised = self.attempts > 0
        since = np.where(practised, np.minimum(1.0, (self.step[:, None] - self.last_seen) / 50.0), 0.0)
        kinds = np.eye(len(KINDS))[catalogue.kind_index]
        static = np.concatenate(
            [catalogue.demand, mean_demand[:, None], kinds, catalogue.position[:, None],
             np.log(catalogue.note_count)[:, None] / 4.0],
            axis=1,
        )
        per_ex = np.stack(
            [np.log1p(self.attempts) / 3.0, self.last_score, self.ema_score, np.minimum(self.last_timing, 600) / 300.0,
             self.last_completion, self.last_rating / 5.0, practised, since, self.passed, self.last_full,
             mean_demand[None, :] - frontier[:, None], mean_demand[None, :] - ability[:, None],
             (np.arange(e)[None, :] == self.last_exercise[:, None])],
            axis=2,
        )
        seen = ~np.isnan(self.recent)
        recent = np.where(seen.any(axis=1), np.nansum(self.recent, axis=1) / np.maximum(1, seen.sum(axis=1)), 0.5)
        glob = np.stack(
            [np.minimum(self.step, 200) / 100.0, recent, np.nan_to_num(self.recent_rating, nan=3.0) / 5.0,
             np.minimum(self.low_streak, 5) / 5.0, ability, frontier, self.passed.mean(axis=1), practised.mean(axis=1),
             (self.step % 10) / 10.0, self.last_tempo / FULL_TEMPO, (self.last_help > 0).astype(float)],
            axis=1,
        )
        out = np.concatenate(
            [np.broadcast_to(static[None], (n, e, static.shape[1])), per_ex,
             np.broadcast_to(glob[:, None, :], (n, e, glob.shape[1]))],
            axis=2,
        )
        return out.astype(np.float32)

    def adapt_features(self, catalogue: Catalogue) -> np.ndarray:
        """The few features each learner's own adaptation weights act on, learners x exercises x ``ADAPT_DIM``."""
        mean_demand = catalogue.demand.mean(axis=1)
        relative = mean_demand[None, :] - self.ability(catalogue)[:, None]
        is_last = np.arange(self.n_exercises)[None, :] == self.last_exercise[:, None]
        return np.stack([relative * 5.0, self.passed, is_last, np.log1p(self.attempts) / 2.0], axis=2)

    # -- persistence for one learner ------------------------------------------------------------------

    def to_state(self, i: int, catalogue: Catalogue) -> dict[str, Any]:
        """Learner ``i`` as JSON-ready data, per exercise keyed by exercise key (catalogues change over time)."""
        per_exercise = {
            key: {name: float(getattr(self, name)[i, j]) for name in _PER_EXERCISE}
            | {"window": [None if np.isnan(v) else float(v) for v in self.window[i, j]]}
            for j, key in enumerate(catalogue.keys)
            if self.attempts[i, j] > 0
        }
        last = int(self.last_exercise[i])
        return {
            "exercises": per_exercise,
            "step": float(self.step[i]),
            "recent": [None if np.isnan(v) else float(v) for v in self.recent[i]],
            "recent_rating": None if np.isnan(self.recent_rating[i]) else float(self.recent_rating[i]),
            "low_streak": float(self.low_streak[i]),
            "last_exercise": catalogue.keys[last] if last >= 0 else None,
            "last_tempo": int(self.last_tempo[i]),
            "last_help": int(self.last_help[i]),
            "adapt_w": self.adapt_w[i].tolist(),
            "adapt_grad": self.adapt_grad[i].tolist(),
            "adapt_baseline": float(self.adapt_baseline[i]),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], catalogue: Catalogue) -> LearnerHistory:
        """One learner's history mapped onto ``catalogue``; exercises no longer offered are dropped."""
        h = cls(1, len(catalogue))
        for key, values in (state.get("exercises") or {}).items():
            if key not in catalogue.keys:
                continue
            j = catalogue.index(key)
            for name in _PER_EXERCISE:
                getattr(h, name)[0, j] = float(values.get(name, 0.0))
            window = values.get("window") or []
            h.window[0, j, -len(window):] = [np.nan if v is None else v for v in window][-WINDOW:]
        h.step[0] = float(state.get("step", 0.0))
        recent = state.get("recent") or [None] * 3
        h.recent[0] = [np.nan if v is None else v for v in recent[-3:]]
        rating = state.get("recent_rating")
        h.recent_rating[0] = np.nan if rating is None else float(rating)
        h.low_streak[0] = float(state.get("low_streak", 0.0))
        last = state.get("last_exercise")
        h.last_exercise[0] = catalogue.index(last) if last in catalogue.keys else -1
        h.last_tempo[0], h.last_help[0] = int(state.get("last_tempo", FULL_TEMPO)), int(state.get("last_help", 0))
        for name in ("adapt_w", "adapt_grad"):
            values = state.get(name)
            if values is not None and len(values) == ADAPT_DIM:
                getattr(h, name)[0] = values
        h.adapt_baseline[0] = float(state.get("adapt_baseline", 0.0))
        return h


N_STATIC, N_PER_EXERCISE, N_GLOBAL = 10, 13, 11
N_FEATURES = N_STATIC + N_PER_EXERCISE + N_GLOBAL
