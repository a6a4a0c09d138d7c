"""Simulated learners behave like learners: practice at the right level helps, too hard drives them away,
and what a policy sees of them is only what Etude could see of a take."""

from __future__ import annotations

import numpy as np
import pytest

from inference.tutor.exercises import FULL_TEMPO, NO_HELP, Actions, simulated_catalogue
from inference.tutor.simulators import FAMILIES, JUST_RIGHT, OBSERVATION_FIELDS, make_simulator

N = 400


def _actions(exercise: np.ndarray, tempo: int = FULL_TEMPO, help_: int = NO_HELP) -> Actions:
    n = len(exercise)
    return Actions(exercise, np.full(n, tempo), np.full(n, help_), np.ones(n), np.zeros((n, 1)))


def _right_level(sim, n_exercises: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Per learner, the exercise whose chance of success is closest to the middle of the just-right band."""
    target = sum(JUST_RIGHT) / 2
    success = np.stack([sim.oracle_success(_actions(np.full(sim.n, e))) for e in range(n_exercises)], axis=1)
    return np.argmin(np.abs(success - target), axis=1)


def _too_easy(sim, n_exercises: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Per learner, the exercise they already play most surely: practice far below their level."""
    success = np.stack([sim.oracle_success(_actions(np.full(sim.n, e))) for e in range(n_exercises)], axis=1)
    return np.argmax(success, axis=1)


def _practise(family: str, choose, takes: int = 30, seed: int = 3):  # type: ignore[no-untyped-def]
    catalogue = simulated_catalogue(np.random.default_rng(seed))
    sim = make_simulator(family, catalogue, N, seed)
    before = sim.oracle_post_test()
    for _ in range(takes):
        sim.step(_actions(choose(sim, len(catalogue))))
    return before, sim


@pytest.mark.parametrize("family", FAMILIES)
def test_practising_at_the_right_level_beats_practising_what_is_already_easy(family: str) -> None:
    before, right = _practise(family, _right_level)
    _, easy = _practise(family, _too_easy)
    gain_right = (right.oracle_post_test() - before).mean()
    gain_easy = (easy.oracle_post_test() - before).mean()
    assert gain_right > 0.05
    assert gain_right > 2 * gain_easy


@pytest.mark.parametrize("family", FAMILIES)
def test_exercises_far_too_hard_make_learners_quit(family: str) -> None:
    _, right = _practise(family, _right_level, takes=40)
    _, hard = _practise(family, lambda sim, n: np.full(sim.n, n - 1), takes=40)
    quit_right, quit_hard = 1 - right.is_active.mean(), 1 - hard.is_active.mean()
    assert quit_hard > 0.3
    assert quit_hard > 3 * quit_right


@pytest.mark.parametrize("family", FAMILIES)
def test_observations_are_only_what_a_take_shows(family: str) -> None:
    catalogue = simulated_catalogue(np.random.default_rng(0))
    sim = make_simulator(family, catalogue, 50, 0)
    seen = sim.step(_actions(np.arange(50) % len(catalogue)))
    assert OBSERVATION_FIELDS == ("accuracy", "timing_error_ms", "tempo_reached", "rating", "has_quit", "is_active")
    assert np.all((seen.accuracy >= 0) & (seen.accuracy <= 1))
    assert np.all(seen.timing_error_ms >= 0)
    assert set(np.unique(seen.rating)) <= {0, 1, 2, 3, 4, 5}
    public = {name for name in vars(sim) if not name.startswith("_")}
    assert public == {"catalogue", "n", "is_active", "steps"}


def test_the_same_seed_gives_the_same_learners() -> None:
    catalogue = simulated_catalogue(np.random.default_rng(1))
    a, b = (make_simulator("skills", catalogue, 20, 7) for _ in range(2))
    for _ in range(5):
        seen_a, seen_b = a.step(_actions(np.zeros(20, dtype=np.int64))), b.step(_actions(np.zeros(20, dtype=np.int64)))
        np.testing.assert_array_equal(seen_a.accuracy, seen_b.accuracy)
    np.testing.assert_array_equal(a.oracle_post_test(), b.oracle_post_test())


def test_unknown_family_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown learner family 'aliens'"):
        make_simulator("aliens", simulated_catalogue(np.random.default_rng(0)), 5, 0)
