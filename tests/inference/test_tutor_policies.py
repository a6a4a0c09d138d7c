"""Every policy keeps the contract ``policy.act(obs) -> Actions`` and never picks what is not available."""

from __future__ import annotations

import numpy as np
import pytest

from inference.tutor.exercises import HELPS, TEMPO_FACTORS, Catalogue, Exercise, simulated_catalogue
from inference.tutor.history import N_FEATURES, LearnerHistory
from inference.tutor.policies import DEFAULT_MODEL, POLICIES, FixedCurriculum, TutorObs, make_policy
from inference.tutor.simulators import make_simulator

N = 60


def _restricted_catalogue(seed: int) -> Catalogue:
    """A course where some exercises offer only some helps."""
    base = simulated_catalogue(np.random.default_rng(seed), 12)
    rng = np.random.default_rng(seed + 1)
    exercises = [
        Exercise(e.key, e.kind, e.title, e.demand, e.note_count,
                 helps=("none", *[h for h in HELPS[1:] if rng.random() < 0.5]))
        for e in base.exercises
    ]
    return Catalogue(exercises)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_policy_never_picks_an_unavailable_exercise_or_help(name: str) -> None:
    catalogue = _restricted_catalogue(5)
    rng = np.random.default_rng(9)
    available = rng.random((N, len(catalogue))) < 0.4
    available[np.arange(N), rng.integers(0, len(catalogue), N)] = True
    history = LearnerHistory(N, len(catalogue))
    obs = TutorObs(catalogue, history, available)
    sim = make_simulator("skills", catalogue, N, 9)
    policy = make_policy(name, seed=2)
    for _ in range(25):
        actions = policy.act(obs)
        rows = np.arange(N)
        assert available[rows, actions.exercise].all()
        assert catalogue.help_mask[actions.exercise, actions.help].all()
        assert np.all((actions.tempo >= 0) & (actions.tempo < len(TEMPO_FACTORS)))
        assert np.all((actions.probability > 0) & (actions.probability <= 1 + 1e-9))
        np.testing.assert_allclose(actions.exercise_probs.sum(axis=1), 1.0, atol=1e-6)
        assert np.all(actions.exercise_probs[~available] < 1e-9)
        seen = sim.step(actions)
        reward = history.record(actions, seen.accuracy, seen.timing_error_ms, seen.tempo_reached, seen.rating,
                                seen.is_active)
        policy.learn(obs, actions, reward)
        assert isinstance(policy.reason(obs, actions, 0), str)


def test_a_learner_with_nothing_available_is_refused() -> None:
    catalogue = simulated_catalogue(np.random.default_rng(0), 5)
    with pytest.raises(ValueError, match="at least one available exercise"):
        TutorObs(catalogue, LearnerHistory(2, 5), np.zeros((2, 5), dtype=bool))


def test_fixed_curriculum_walks_the_course_in_order() -> None:
    catalogue = simulated_catalogue(np.random.default_rng(0), 6)
    history = LearnerHistory(1, 6)
    obs = TutorObs.full(catalogue, history)
    chosen = []
    for _ in range(len(FixedCurriculum.PLAN) * 3):
        actions = FixedCurriculum().act(obs)
        chosen.append(int(actions.exercise[0]))
        history.record(actions, np.ones(1), np.zeros(1), np.ones(1), np.zeros(1), np.ones(1, dtype=bool))
    assert chosen == [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_mastery_rule_moves_on_after_a_pass_and_eases_after_a_failure() -> None:
    catalogue = simulated_catalogue(np.random.default_rng(0), 6)
    history = LearnerHistory(1, 6)
    obs = TutorObs.full(catalogue, history)
    policy = make_policy("mastery")
    first = policy.act(obs)
    history.record(first, np.array([0.2]), np.array([200.0]), np.array([0.5]), np.zeros(1), np.ones(1, dtype=bool))
    eased = policy.act(obs)
    assert eased.exercise[0] == 0 and eased.tempo[0] < first.tempo[0]
    history.record(first, np.array([1.0]), np.array([10.0]), np.array([1.0]), np.zeros(1), np.ones(1, dtype=bool))
    assert policy.act(obs).exercise[0] == 1


def test_history_survives_a_round_trip_through_json() -> None:
    catalogue = simulated_catalogue(np.random.default_rng(2), 8)
    sim = make_simulator("practice", catalogue, 1, 2)
    history = LearnerHistory(1, len(catalogue))
    obs = TutorObs.full(catalogue, history)
    policy = make_policy("ppo", seed=1)
    for _ in range(7):
        actions = policy.act(obs)
        seen = sim.step(actions)
        policy.learn(obs, actions, history.record(actions, seen.accuracy, seen.timing_error_ms, seen.tempo_reached,
                                                  seen.rating, seen.is_active))
    restored = LearnerHistory.from_state(history.to_state(0, catalogue), catalogue)
    np.testing.assert_allclose(restored.features(catalogue), history.features(catalogue), atol=1e-6)
    np.testing.assert_allclose(restored.adapt_w, history.adapt_w)
    assert history.features(catalogue).shape == (1, len(catalogue), N_FEATURES)


def test_the_shipped_model_is_small_and_documented() -> None:
    import json

    assert DEFAULT_MODEL.exists() and DEFAULT_MODEL.stat().st_size < 1_000_000
    meta = json.loads(DEFAULT_MODEL.with_suffix(".json").read_text())
    assert meta["command"].startswith("python -m inference.tutor.train")
    assert meta["config"]["family"] in ("bkt", "skills", "practice")
