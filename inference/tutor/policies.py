"""Teaching policies: ``policy.act(obs) -> Actions`` for a batch of learners on one catalogue.

- ``FixedCurriculum``: the course in order, three takes per exercise (slow with metronome, then full tempo).
- ``MasteryRule``: stay on the first exercise not yet passed, easing tempo and adding help after failures.
- ``LearningProgressBandit``: ZPDES (Clement et al. 2015): sample exercises in a zone of proximal
  development in proportion to recent learning progress; the zone moves on as exercises are mastered.
- ``PPOPolicy``: the actor-critic trained by ``inference.tutor.train``, served from ONNX with onnxruntime,
  plus a per-learner adaptation (a small linear correction of the exercise logits learnt online by policy
  gradient from that learner's own observed rewards).

Every policy respects ``obs.available`` (exercises this learner may be given) and each exercise's helps.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from inference.tutor.exercises import FULL_TEMPO, HELP_LABELS, HELPS, NO_HELP, TEMPO_FACTORS, Actions, Catalogue
from inference.tutor.history import PASS_SCORE, WINDOW, LearnerHistory

METRONOME, REFERENCE = HELPS.index("metronome"), HELPS.index("reference")
MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
DEFAULT_MODEL = MODELS_DIR / "tutor_ppo.onnx"
DEFAULT_WEIGHTS = DEFAULT_MODEL.with_suffix(".pt")
DEFAULT_POLICY = "ppo"
"""What the product ships, chosen from ``python -m inference.bench.tutor`` (see docs/tutor.md)."""
SUPPORT_LADDER = ((0, METRONOME), (1, METRONOME), (1, NO_HELP), (FULL_TEMPO, NO_HELP))
"""(tempo index, help) from most to least supported, used by the rule-based policies."""


@dataclass
class TutorObs:
    """What a policy sees: the course, the learners' observed history, and which exercises each may get."""

    catalogue: Catalogue
    history: LearnerHistory
    available: np.ndarray

    @classmethod
    def full(cls, catalogue: Catalogue, history: LearnerHistory) -> TutorObs:
        return cls(catalogue, history, np.ones((history.n, len(catalogue)), dtype=bool))

    def __post_init__(self) -> None:
        if self.available.shape != (self.history.n, len(self.catalogue)):
            raise ValueError("available must be learners x exercises")
        if not self.available.any(axis=1).all():
            raise ValueError("every learner needs at least one available exercise")


class Policy(ABC):
    name: ClassVar[str]

    def __init__(self, seed: int = 0) -> None:
        self._rng = np.random.default_rng(seed)

    @abstractmethod
    def act(self, obs: TutorObs) -> Actions: ...

    def reseed(self, seed: Any) -> None:
        """Restart the policy's random choices from ``seed`` (an int or a sequence of ints)."""
        self._rng = np.random.default_rng(seed)

    def learn(self, obs: TutorObs, actions: Actions, reward: np.ndarray) -> None:
        """Called after the take with the observed reward; only adaptive policies use it."""
        return None

    def reason(self, obs: TutorObs, actions: Actions, i: int) -> str:
        """One line a learner can read on why learner ``i`` got this exercise."""
        return _describe(obs, actions, i)


def _describe(obs: TutorObs, actions: Actions, i: int) -> str:
    j = int(actions.exercise[i])
    h = obs.history
    title = obs.catalogue.exercises[j].title
    tempo = f"{round(TEMPO_FACTORS[int(actions.tempo[i])] * 100)} %"
    help_ = HELP_LABELS[HELPS[int(actions.help[i])]]
    if h.attempts[i, j] == 0:
        why = "new material at about your level" if h.step[i] > 0 else "a first look at where you stand"
    elif h.passed[i, j]:
        why = "a review of something you have passed, to keep it fresh"
    elif h.last_score[i, j] < 0.5:
        why = f"your last try scored {h.last_score[i, j]:.0%}, so it is eased a little"
    else:
        why = f"you are close (last {h.last_score[i, j]:.0%}); one more push"
    return f"{title} at {tempo} with {help_}: {why}."


def _deterministic(n: int, n_ex: int, exercise: np.ndarray, tempo: np.ndarray, help_: np.ndarray) -> Actions:
    probs = np.zeros((n, n_ex))
    probs[np.arange(n), exercise] = 1.0
    return Actions(exercise, tempo, help_, np.ones(n), probs)


def _allowed_help(obs: TutorObs, exercise: np.ndarray, help_: np.ndarray) -> np.ndarray:
    return np.where(obs.catalogue.help_mask[exercise, help_], help_, NO_HELP)


def _first_available(available: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The first available exercise at or after ``wanted`` in course order (wrapping round)."""
    n, e = available.shape
    order = (wanted[:, None] + np.arange(e)[None, :]) % e
    first = np.argmax(available[np.arange(n)[:, None], order], axis=1)
    return order[np.arange(n), first]


def _support_level(history: LearnerHistory, exercise: np.ndarray) -> np.ndarray:
    """Index into ``SUPPORT_LADDER`` from the observed scores on an exercise (full tempo when new)."""
    rows = np.arange(history.n)
    ema, tried = history.ema_score[rows, exercise], history.attempts[rows, exercise] > 0
    level = np.digitize(ema, [0.4, 0.6, 0.75])
    return np.where(tried, level, len(SUPPORT_LADDER) - 1)


class FixedCurriculum(Policy):
    """The course as written: each exercise three times (slow with metronome, then twice at full tempo)."""

    name = "fixed"
    PLAN = ((1, METRONOME), (FULL_TEMPO, NO_HELP), (FULL_TEMPO, NO_HELP))

    def act(self, obs: TutorObs) -> Actions:
        n, e = obs.available.shape
        takes = obs.history.step.astype(np.int64)
        wanted = (takes // len(self.PLAN)) % e
        exercise = _first_available(obs.available, wanted)
        plan = np.asarray(self.PLAN)[takes % len(self.PLAN)]
        return _deterministic(n, e, exercise, plan[:, 0], _allowed_help(obs, exercise, plan[:, 1]))

    def reason(self, obs: TutorObs, actions: Actions, i: int) -> str:
        return _describe(obs, actions, i).rsplit(":", 1)[0] + ": next in the course plan."


class MasteryRule(Policy):
    """Mastery learning: the first exercise in course order not yet passed (at most ``MAX_TRIES`` takes each)."""

    name = "mastery"
    MAX_TRIES = 8

    def act(self, obs: TutorObs) -> Actions:
        h = obs.history
        n, e = obs.available.shape
        open_ = obs.available & ~h.passed & (h.attempts < self.MAX_TRIES)
        # Everything passed or tried out: review the weakest available exercise.
        weakest = np.argmin(np.where(obs.available, h.ema_score, np.inf), axis=1)
        exercise = np.where(open_.any(axis=1), np.argmax(open_, axis=1), weakest)
        tempo, help_ = np.asarray(SUPPORT_LADDER)[_support_level(h, exercise)].T
        loose = h.last_timing[np.arange(n), exercise] > 120
        help_ = np.where((help_ != NO_HELP) & ~loose, REFERENCE, help_)
        return _deterministic(n, e, exercise, tempo, _allowed_help(obs, exercise, help_))


class LearningProgressBandit(Policy):
    """ZPDES: choose among the first ``ZONE`` unmastered exercises in proportion to learning progress."""

    name = "bandit"
    ZONE = 3
    EPSILON = 0.2
    MASTERED = 0.8
    NEW_PROGRESS = 0.3  # optimistic learning progress of an exercise not yet tried twice

    def act(self, obs: TutorObs) -> Actions:
        h = obs.history
        n, e = obs.available.shape
        window = h.window
        counts = np.sum(~np.isnan(window), axis=2)
        recent = np.where(counts >= 3, np.nan_to_num(window[..., -3:]).mean(axis=2), 0.0)
        mastered = (recent >= self.MASTERED) | h.passed
        open_ = obs.available & ~mastered
        zone = open_ & (np.cumsum(open_, axis=1) <= self.ZONE)
        zone = np.where(zone.any(axis=1)[:, None], zone, obs.available)
        older, newer = np.nan_to_num(window[..., :2]).mean(axis=2), np.nan_to_num(window[..., 2:]).mean(axis=2)
        progress = np.where(counts >= WINDOW, np.abs(newer - older), self.NEW_PROGRESS)
        weights = np.where(zone, progress + 1e-3, 0.0)
        probs = (1 - self.EPSILON) * weights / weights.sum(axis=1, keepdims=True)
        probs += self.EPSILON * zone / zone.sum(axis=1, keepdims=True)
        exercise = _sample(self._rng, probs)
        tempo, help_ = np.asarray(SUPPORT_LADDER)[_support_level(h, exercise)].T
        actions = _deterministic(n, e, exercise, tempo, _allowed_help(obs, exercise, help_))
        actions.exercise_probs = probs
        actions.probability = probs[np.arange(n), exercise]
        return actions


def _sample(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    cumulative = np.cumsum(probs, axis=-1)
    draws = rng.random(probs.shape[:-1])[..., None] * cumulative[..., -1:]
    return np.minimum(np.sum(cumulative < draws, axis=-1), probs.shape[-1] - 1)


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


class PPOPolicy(Policy):
    """The population policy from ONNX, with per-learner adaptation of the exercise choice on top."""

    name = "ppo"
    ADAPT_RATE = 0.1
    ADAPT_DECAY = 0.02

    def __init__(
        self, model: str | Path | bytes = DEFAULT_MODEL, seed: int = 0, *, is_greedy: bool = False,
        is_adaptive: bool = True,
    ) -> None:
        from inference.runtime import onnx_session

        super().__init__(seed)
        self._session = onnx_session(model)
        self.is_greedy, self.is_adaptive = is_greedy, is_adaptive

    def logits(self, obs: TutorObs) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Exercise, tempo and help logits (masked) and the value, straight from the network."""
        features = obs.history.features(obs.catalogue)
        mask = obs.available.astype(np.float32)
        out = self._session.run(None, {"features": features, "mask": mask})
        exercise, tempo, help_, value = (np.asarray(o, dtype=np.float64) for o in out)
        help_ = np.where(obs.catalogue.help_mask[None, :, :], help_, -1e9)
        return exercise, tempo, help_, value

    def act(self, obs: TutorObs) -> Actions:
        h = obs.history
        n, e = obs.available.shape
        ex_logits, tempo_logits, help_logits, _ = self.logits(obs)
        phi = h.adapt_features(obs.catalogue)
        if self.is_adaptive:
            ex_logits = ex_logits + np.einsum("nef,nf->ne", phi, h.adapt_w)
        ex_logits = np.where(obs.available, ex_logits, -1e9)
        ex_probs = _softmax(ex_logits)
        exercise = np.argmax(ex_probs, axis=1) if self.is_greedy else _sample(self._rng, ex_probs)
        rows = np.arange(n)
        tempo_probs, help_probs = _softmax(tempo_logits[rows, exercise]), _softmax(help_logits[rows, exercise])
        pick = (lambda p: np.argmax(p, axis=1)) if self.is_greedy else (lambda p: _sample(self._rng, p))
        tempo, help_ = pick(tempo_probs), pick(help_probs)
        h.adapt_grad = phi[rows, exercise] - np.einsum("ne,nef->nf", ex_probs, phi)
        probability = ex_probs[rows, exercise] * tempo_probs[rows, tempo] * help_probs[rows, help_]
        return Actions(exercise, tempo, help_, probability, ex_probs, tempo_probs, help_probs)

    def learn(self, obs: TutorObs, actions: Actions, reward: np.ndarray) -> None:
        """One policy-gradient step per learner on their own reward (improvement between takes + rating)."""
        if not self.is_adaptive:
            return
        h = obs.history
        advantage = reward - h.adapt_baseline
        h.adapt_w = (1 - self.ADAPT_DECAY) * h.adapt_w + self.ADAPT_RATE * advantage[:, None] * h.adapt_grad
        h.adapt_w = np.clip(h.adapt_w, -3.0, 3.0)
        h.adapt_baseline = 0.9 * h.adapt_baseline + 0.1 * reward


POLICIES: dict[str, type[Policy]] = {
    cls.name: cls for cls in (FixedCurriculum, MasteryRule, LearningProgressBandit, PPOPolicy)
}


def make_policy(name: str, seed: int = 0, **options: Any) -> Policy:
    if name not in POLICIES:
        raise ValueError(f"unknown tutor policy {name!r}; choose from {tuple(POLICIES)}")
    return POLICIES[name](seed=seed, **options)


def is_mastered_by_observation(history: LearnerHistory) -> np.ndarray:
    """Every exercise passed, as far as Etude can tell (the product's notion of done)."""
    return history.passed.all(axis=1) & (history.best_full.min(axis=1) >= PASS_SCORE)
