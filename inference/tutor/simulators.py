"""Simulated learners, so teaching policies can be trained and judged offline on many kinds of learner.

Three families, each vectorised over a population with numpy:
- ``bkt``: Bayesian knowledge tracing (Corbett & Anderson 1995) on a chain of levels per skill; guess and slip
  depend on the exercise's difficulty and the tempo.
- ``skills``: hidden continuous skills; success is logistic in skill minus difficulty, learning is largest in
  a "just right" band, skills fade between sessions, and learners quit after too many too-hard takes.
- ``practice``: per-exercise power law of practice (Newell & Rosenbloom 1981) with transfer between similar
  exercises and fatigue that builds within a session.

``step(actions)`` returns only what Etude sees of a take (note accuracy, timing error, tempo reached, the
learner's 1-5 rating, whether they left). The hidden state stays private; the ``oracle_*`` methods exist for
the benchmark and for PPO's simulated reward, never for policies.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

from inference.tutor.exercises import HELPS, SKILLS, TEMPO_FACTORS, Actions, Catalogue

SESSION_TAKES = 10
"""Takes per practice session; forgetting and rest happen between sessions."""
MASTERY_POST_TEST = 0.8
"""A learner has mastered the course when their expected post-test score reaches this."""
JUST_RIGHT = (0.5, 0.9)
"""A take is in the just-right band when its chance of success lies in this range."""
RATING_GIVEN_P = 0.7
"""Share of takes the simulated learner rates (0 in ``Observation.rating`` means no rating)."""

# Help and slower tempo make a take easier per skill, in latent difficulty units (the 0-10 scale of ``skills``).
HELP_RELIEF = np.array(
    [
        [0.0, 0.0, 0.0, 0.0],  # none
        [0.0, 0.6, 0.4, 1.5],  # wait mode: the score waits for the learner
        [0.0, 1.2, 0.0, 0.4],  # metronome
        [1.2, 0.6, 0.2, 0.0],  # reference playback first
        [0.4, 0.0, 1.6, 0.0],  # note names shown
    ]
)
TEMPO_RELIEF = np.array([0.8, 2.0, 0.8, 2.5])
"""Relief per skill for playing at tempo factor 0 (scaled by 1 - factor)."""
HELPED_TRANSFER = 0.7
"""Practice with help carries over to unaided playing at this rate."""
assert HELP_RELIEF.shape == (len(HELPS), len(SKILLS))


@dataclass(frozen=True)
class Observation:
    """What Etude can see of one take per learner. Entries for learners who are gone are NaN/0/False."""

    accuracy: np.ndarray
    timing_error_ms: np.ndarray
    tempo_reached: np.ndarray
    rating: np.ndarray
    has_quit: np.ndarray
    is_active: np.ndarray


OBSERVATION_FIELDS = tuple(f.name for f in fields(Observation))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class LearnerSimulator(ABC):
    """A population of simulated learners working through one catalogue."""

    family: ClassVar[str]

    def __init__(self, catalogue: Catalogue, n_learners: int, seed: int) -> None:
        if n_learners < 1:
            raise ValueError("n_learners must be at least 1")
        self.catalogue = catalogue
        self.n = n_learners
        self._rng = np.random.default_rng(seed)
        # The catalogue's difficulty is an estimate; the learners meet the true one.
        self._demand = np.clip(catalogue.demand + self._rng.normal(0.0, 0.05, catalogue.demand.shape), 0.0, 1.0)
        self._learn_rate = self._rng.lognormal(0.0, 0.35, n_learners)
        self._tolerance = self._rng.lognormal(0.0, 0.4, n_learners)
        self._hard_streak = np.zeros(n_learners)
        self.is_active = np.ones(n_learners, dtype=bool)
        self.steps = 0
        self._init_learners()

    # -- what each family defines ---------------------------------------------------------------------

    @abstractmethod
    def _init_learners(self) -> None: ...

    @abstractmethod
    def _skill_success(self, exercise: np.ndarray, tempo: np.ndarray, help_: np.ndarray) -> np.ndarray:
        """Chance of getting each skill right, learners x skills."""

    @abstractmethod
    def _learn(self, exercise: np.ndarray, tempo: np.ndarray, help_: np.ndarray, success: np.ndarray) -> None: ...

    @abstractmethod
    def _session_break(self) -> None: ...

    def _quit_hazard(self) -> np.ndarray:
        return 0.0005 + np.minimum(0.08, 0.006 * np.maximum(0.0, self._hard_streak - 4.0) / self._tolerance)

    # -- the shared take ------------------------------------------------------------------------------

    def step(self, actions: Actions) -> Observation:
        """Every active learner plays one take of the chosen exercise; returns what Etude observes."""
        exercise, tempo = actions.exercise, np.asarray(TEMPO_FACTORS)[actions.tempo]
        p_skill = self._skill_success(exercise, tempo, actions.help)
        success = self._take_success(p_skill)
        obs = self._observe(p_skill, success, exercise, tempo)
        was_active = self.is_active.copy()
        # NaN success tells ``_learn`` that a learner who has left learns nothing.
        self._learn(exercise, tempo, actions.help, np.where(was_active, success, np.nan))
        self._hard_streak = np.where(
            success < 0.25, self._hard_streak + 1, np.where(success > 0.5, 0, np.maximum(0, self._hard_streak - 1))
        )
        quits = was_active & (self._rng.random(self.n) < self._quit_hazard())
        self.is_active = was_active & ~quits
        self.steps += 1
        if self.steps % SESSION_TAKES == 0:
            self._session_break()
        return Observation(
            accuracy=np.where(was_active, obs[0], np.nan),
            timing_error_ms=np.where(was_active, obs[1], np.nan),
            tempo_reached=np.where(was_active, obs[2], np.nan),
            rating=np.where(was_active, obs[3], 0).astype(np.int64),
            has_quit=quits,
            is_active=was_active,
        )

    @staticmethod
    def _take_success(p_skill: np.ndarray) -> np.ndarray:
        """Chance that the take as a whole goes well: the geometric mean over skill pairs."""
        return np.sqrt(np.prod(p_skill, axis=1))

    def _observe(
        self, p: np.ndarray, success: np.ndarray, exercise: np.ndarray, tempo: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        rng = self._rng
        notes = self.catalogue.note_count[exercise]
        note_p = np.sqrt(p[:, 0] * p[:, 2])
        accuracy = rng.binomial(notes, np.clip(note_p, 0.0, 1.0)) / notes
        timing = np.maximum(0.0, 25.0 + 160.0 * (1.0 - np.sqrt(p[:, 1] * p[:, 3])) + rng.normal(0.0, 12.0, self.n))
        completed = np.clip(0.3 + 0.9 * success + rng.normal(0.0, 0.1, self.n), 0.05, 1.0)
        liking = 1.0 + 4.0 * np.exp(-(((success - 0.75) / 0.28) ** 2)) + rng.normal(0.0, 0.45, self.n)
        rating = np.clip(np.rint(liking), 1, 5)
        rating = np.where(rng.random(self.n) < RATING_GIVEN_P, rating, 0)
        return accuracy, timing, tempo * completed, rating

    # -- oracles: hidden truth for benchmarks and simulated rewards ------------------------------------

    def oracle_success(self, actions: Actions) -> np.ndarray:
        """The chance each learner's chosen take goes well (for the just-right share)."""
        tempo = np.asarray(TEMPO_FACTORS)[actions.tempo]
        return self._take_success(self._skill_success(actions.exercise, tempo, actions.help))

    def oracle_post_test(self) -> np.ndarray:
        """Expected post-test score: mean chance of success over the catalogue at full tempo, no help."""
        n_ex = len(self.catalogue)
        total = np.zeros(self.n)
        full, none = np.ones(self.n), np.zeros(self.n, dtype=np.int64)
        for e in range(n_ex):
            total += self._take_success(self._skill_success(np.full(self.n, e), full, none))
        return total / n_ex

    def _relief(self, tempo: np.ndarray, help_: np.ndarray) -> np.ndarray:
        return HELP_RELIEF[help_] + (1.0 - tempo)[:, None] * TEMPO_RELIEF[None, :]


class SkillsSimulator(LearnerSimulator):
    """Hidden continuous skills on a 0-10 scale; exercises demand ``10 * demand`` per skill."""

    family = "skills"

    def _init_learners(self) -> None:
        level = self._rng.uniform(0.5, 6.0, self.n)
        self._skill = np.maximum(0.0, level[:, None] + self._rng.normal(0.0, 0.7, (self.n, len(SKILLS))))
        self._start = self._skill.copy()
        self._forget = self._rng.uniform(0.5, 1.5, self.n)

    def _gap(self, exercise: np.ndarray, tempo: np.ndarray, help_: np.ndarray) -> np.ndarray:
        return 10.0 * self._demand[exercise] - self._relief(tempo, help_) - self._skill

    def _skill_success(self, exercise: np.ndarray, tempo: np.ndarray, help_: np.ndarray) -> np.ndarray:
        return _sigmoid(0.8 - 1.3 * self._gap(exercise, tempo, help_))

    def _learn(self, exercise: np.ndarray, tempo: np.ndarray, help_: np.ndarray, success: np.ndarray) -> None:
        gap = self._gap(exercise, tempo, help_)
        band = np.exp(-(((gap - 0.6) / 1.0) ** 2))
        transfer = np.where(help_ > 0, HELPED_TRANSFER, 1.0) * (0.7 + 0.3 * tempo)
        gain = 0.4 * self._learn_rate[:, None] * band * transfer[:, None]
        self._skill += np.where(np.isnan(success)[:, None], 0.0, gain)

    def _session_break(self) -> None:
        self._skill -= 0.04 * self._forget[:, None] * (self._skill - self._start)


class BKTSimulator(LearnerSimulator):
    """Knowledge tracing on ``LEVELS`` levels per skill; a level is learnt only on top of the one below."""

    family = "bkt"
    LEVELS = 6

    def _init_learners(self) -> None:
        base = self._rng.integers(0, 4, self.n)
        jitter = self._rng.integers(-1, 2, (self.n, len(SKILLS)))
        self._known = np.clip(base[:, None] + jitter, 0, self.LEVELS).astype(np.int64)
        self._start = self._known.copy()
        self._required = np.ceil(self._demand * self.LEVELS).astype(np.int64)

    def _guess_slip(self, exercise: np.ndarray, tempo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = self._demand[exercise]
        speed = ((tempo - 0.6) / 0.4)[:, None]
        slip = 0.02 + 0.04 * d + 0.04 * d * speed
        guess = 0.1 + 0.5 * (1.0 - d) * (1.3 - 0.5 * speed)
        return guess, slip

    def _skill_success(self, exercise: np.ndarray, tempo: np.ndarray, help_: np.ndarray) -> np.ndarray:
        relief_levels = np.floor(self._relief(tempo, help_) * 0.6 + 0.5).astype(np.int64)
        knows = self._known >= self._required[exercise] - relief_levels
        guess, slip = self._guess_slip(exercise, tempo)
        return np.where(knows, 1.0 - slip, guess)

    def _learn(self, exercise: np.ndarray, tempo: np.ndarray, help_: np.ndarray, success: np.ndarray) -> None:
        gap = self._required[exercise] - self._known
        p_learn = np.where(gap == 1, 0.5, np.where(gap == 2, 0.08, 0.0))
        transfer = np.where(help_ > 0, HELPED_TRANSFER, 1.0) * (0.7 + 0.3 * tempo)
        p_learn = p_learn * (self._learn_rate * transfer * (0.3 + 0.7 * np.nan_to_num(success)))[:, None]
        learns = (self._rng.random(p_learn.shape) < p_learn) & ~np.isnan(success)[:, None]
        self._known = np.minimum(self.LEVELS, self._known + learns)

    def _session_break(self) -> None:
        forgets = (self._rng.random(self._known.shape) < 0.03) & (self._known > self._start)
        self._known -= forgets


class PracticeSimulator(LearnerSimulator):
    """Per-exercise power law of practice with transfer to similar, easier exercises, and fatigue."""

    family = "practice"

    def _init_learners(self) -> None:
        level = self._rng.uniform(0.0, 0.6, self.n)
        mean_demand = self._demand.mean(axis=1)
        self._practice = 30.0 * _sigmoid((level[:, None] - mean_demand[None, :]) / 0.06)
        self._exponent = self._rng.uniform(0.55, 0.85, self.n)
        self._fatigue = np.zeros(self.n)
        self._difficulty = 0.2 + 2.2 * mean_demand**2
        diff = self._demand[:, None, :] - self._demand[None, :, :]
        similar = np.exp(-np.sum(diff**2, axis=2) / (2 * 0.15**2))
        easier = mean_demand[None, :] <= mean_demand[:, None] + 0.02
        self._transfer = similar * np.where(easier, 1.0, 0.6)  # from row exercise to column exercise
        share = self._demand / np.maximum(1e-6, self._demand.sum(axis=1, keepdims=True))
        self._skill_share = share

    def _error(self, exercise: np.ndarray, tempo: np.ndarray, help_: np.ndarray) -> np.ndarray:
        practice = self._practice[np.arange(self.n), exercise]
        error = self._difficulty[exercise] * (1.0 + practice) ** -self._exponent
        relief = np.sum(self._relief(tempo, help_) * self._skill_share[exercise], axis=1)
        return np.minimum(1.0, error * np.exp(-0.3 * relief))

    def _skill_success(self, exercise: np.ndarray, tempo: np.ndarray, help_: np.ndarray) -> np.ndarray:
        overall = (1.0 - self._error(exercise, tempo, help_)) * (1.0 - 0.3 * self._fatigue)
        # Spread the take's success over skills in proportion to what the exercise demands of each.
        return np.maximum(overall, 1e-6)[:, None] ** (2.0 * self._skill_share[exercise])

    def _learn(self, exercise: np.ndarray, tempo: np.ndarray, help_: np.ndarray, success: np.ndarray) -> None:
        band = np.exp(-(((np.nan_to_num(success, nan=-9.0) - 0.6) / 0.3) ** 2))
        transfer = np.where(help_ > 0, HELPED_TRANSFER, 1.0) * (0.7 + 0.3 * tempo)
        gain = 3.0 * self._learn_rate * band * transfer * (1.0 - 0.5 * self._fatigue)
        self._practice += gain[:, None] * self._transfer[exercise]
        effort = 0.03 + 0.08 * self._demand[exercise].mean(axis=1) * tempo
        self._fatigue = np.where(np.isnan(success), self._fatigue, np.minimum(1.0, self._fatigue + effort))

    def _session_break(self) -> None:
        self._practice *= 0.97
        self._fatigue[:] = 0.0

    def _quit_hazard(self) -> np.ndarray:
        return super()._quit_hazard() * (1.0 + 2.0 * self._fatigue)

    def oracle_post_test(self) -> np.ndarray:
        fatigue, self._fatigue = self._fatigue, np.zeros(self.n)
        try:
            return super().oracle_post_test()
        finally:
            self._fatigue = fatigue


SIMULATORS: dict[str, type[LearnerSimulator]] = {
    cls.family: cls for cls in (BKTSimulator, SkillsSimulator, PracticeSimulator)
}
FAMILIES = tuple(SIMULATORS)


def make_simulator(family: str, catalogue: Catalogue, n_learners: int, seed: int) -> LearnerSimulator:
    if family not in SIMULATORS:
        raise ValueError(f"unknown learner family {family!r}; choose from {FAMILIES}")
    return SIMULATORS[family](catalogue, n_learners, seed)
