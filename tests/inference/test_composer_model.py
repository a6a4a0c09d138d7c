"""The composer's reward model and model-based planning: the regression, its JSON form, the population prior
fitted by EM, and the planner's choices."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from inference.bench.composer import population_prior, run_session
from inference.composer.agents import IMPROVED, IMPROVED_MODEL_FREE, EditAgent
from inference.composer.features import melody_features
from inference.composer.raters import RATER_KINDS
from inference.composer.reward_model import (
    BASIS_NAMES,
    DIMENSIONS,
    LearnerStats,
    Prior,
    RewardModel,
    fit_population_prior,
    taste_basis,
)
from inference.composer.track import PERCUSSION, PERCUSSION_CHANGE, RESOLVE_END, Track, TrackParams, random_track

C_MAJOR = TrackParams(base_note=60, scale="major", length=8, tempo_bpm=90)
OPEN_END = Track((60, 64, 62, 67, 65, 64, 62, 71), (0.5,) * 8, tuple(PERCUSSION[i % 2] for i in range(16)))


def _tracks(n: int, seed: int) -> list[Track]:
    rng = np.random.default_rng(seed)
    return [random_track(C_MAJOR, rng) for _ in range(n)]


def test_the_basis_has_an_intercept_and_hinges_that_open_above_their_knots() -> None:
    basis = taste_basis(OPEN_END, C_MAJOR)
    named = dict(zip(BASIS_NAMES, basis, strict=True))
    assert len(basis) == DIMENSIONS and named["intercept"] == 1.0 and named["tonic_end"] == 0.0
    assert named["range_semitones"] == pytest.approx(11 / 12)  # 60..71
    assert named["range_semitones>10"] == pytest.approx(1 / 12) and named["range_semitones>14"] == 0.0


def test_the_posterior_recovers_a_taste_from_noiseless_ratings() -> None:
    true_weights = np.random.default_rng(0).normal(0.0, 2.0, DIMENSIONS)
    model = RewardModel()
    train, test = _tracks(300, 1), _tracks(50, 2)
    for track in train:
        model.observe(taste_basis(track, C_MAJOR), float(taste_basis(track, C_MAJOR) @ true_weights))
    basis = np.stack([taste_basis(t, C_MAJOR) for t in test])
    assert np.abs(model.predict(basis) - basis @ true_weights).max() < 0.3


def test_the_model_round_trips_through_json_and_refuses_anything_else() -> None:
    model = RewardModel(forget=0.99)
    for rating, track in zip((3, 7, 5), _tracks(3, 3), strict=True):
        model.observe(taste_basis(track, C_MAJOR), rating)
    restored = RewardModel.from_json(json.loads(json.dumps(model.to_json())))
    probe = taste_basis(OPEN_END, C_MAJOR)
    assert restored.predict(probe) == pytest.approx(model.predict(probe), abs=1e-4)
    assert restored.stats.n == pytest.approx(model.stats.n) and restored.forget == 0.99
    broken = model.to_json() | {"xy": [1.0, 2.0]}
    for bad in ({"version": 2}, broken, model.to_json() | {"yy": None}, {**model.to_json(), "xx": [[float("nan")]]}):
        with pytest.raises(ValueError, match="reward model|shape"):
            RewardModel.from_json(bad)


def test_em_finds_the_population_mean_and_the_rating_noise() -> None:
    rng = np.random.default_rng(4)
    population_mean = rng.normal(0.0, 2.0, DIMENSIONS)
    tracks = _tracks(400, 5)
    learners = []
    for _ in range(60):
        weights = population_mean + rng.normal(0.0, 0.3, DIMENSIONS)
        chosen = [tracks[i] for i in rng.choice(len(tracks), 30, replace=False)]
        x = np.stack([taste_basis(t, C_MAJOR) for t in chosen])
        y = x @ weights + rng.normal(0.0, 0.8, len(chosen))
        learners.append(LearnerStats(x.T @ x, x.T @ y, float(len(y)), float(y @ y)))
    prior = fit_population_prior(learners)
    probe = np.stack([taste_basis(t, C_MAJOR) for t in _tracks(50, 6)])
    assert prior.learners == 60 and prior.noise_sd == pytest.approx(0.8, abs=0.15)
    assert np.abs(probe @ prior.mean - probe @ population_mean).mean() < 0.3
    assert fit_population_prior([]).learners == 0


def _confident_prior(**weights: float) -> Prior:
    mean = np.zeros(DIMENSIONS)
    for name, value in weights.items():
        mean[BASIS_NAMES.index(name)] = value
    return Prior(mean, np.eye(DIMENSIONS) * 1e-4, learners=100)


def test_the_planner_plays_the_edit_the_model_likes_best() -> None:
    agent = EditAgent(IMPROVED, C_MAJOR, model=RewardModel(_confident_prior(tonic_end=3.0)))
    edit = agent.choose(OPEN_END, 0, np.random.default_rng(0))
    assert melody_features(agent.apply_all(OPEN_END, edit), C_MAJOR).tonic_end == 1.0


def test_deeper_plans_chain_edits_when_each_one_helps() -> None:
    config = replace(IMPROVED, plan_depth=3, q_weight=0.0)
    agent = EditAgent(config, C_MAJOR, model=RewardModel(_confident_prior(tonic_end=3.0, stepwise=2.0)))
    edit = agent.choose(OPEN_END, 0, np.random.default_rng(0))
    result = melody_features(agent.apply_all(OPEN_END, edit), C_MAJOR)
    assert 2 <= len(edit) <= 3 and result.tonic_end == 1.0
    assert result.stepwise > melody_features(OPEN_END, C_MAJOR).stepwise


def test_with_the_generic_prior_the_planner_samples_and_with_a_population_it_does_not() -> None:
    generic = EditAgent(IMPROVED, C_MAJOR)
    assert generic.model is not None and generic.model.prior.learners == 0
    assert len({generic.choose(OPEN_END, 0, np.random.default_rng(s)) for s in range(12)}) > 3
    informed = EditAgent(IMPROVED, C_MAJOR, model=RewardModel(_confident_prior(tonic_end=3.0, stepwise=1.0)))
    assert len({informed.choose(OPEN_END, 0, np.random.default_rng(s)) for s in range(12)}) <= 2


def test_with_a_population_prior_the_planner_gains_more_in_one_episode_than_q_values_alone() -> None:
    prior = population_prior(IMPROVED, learners=30, cohorts=2)

    def gain(config, start: Prior | None) -> float:  # type: ignore[no-untyped-def]
        """Mean rating of ratings 6-12 minus the first, over 24 simulated learners (less noisy than one rating)."""
        logs = [run_session(config, kind, seed, 1, start) for kind in RATER_KINDS for seed in range(6)]
        return float(np.mean([np.mean(log.ratings[5:]) - log.ratings[0] for log in logs]))

    improved, model_free = gain(IMPROVED, prior), gain(IMPROVED_MODEL_FREE, None)
    print(f"gain: improved {improved:.2f}, model-free {model_free:.2f}")
    assert prior.learners == 30
    assert improved > max(1.0, model_free + 1.0)


def test_dyna_updates_the_q_values_of_simulated_edits_with_the_models_predicted_change() -> None:
    config = replace(IMPROVED, dyna_updates=1000, alpha=1.0, gamma=0.0)  # every edit once, Q = simulated reward
    agent = EditAgent(config, C_MAJOR, model=RewardModel(_confident_prior(tonic_end=3.0)))
    agent.dream(OPEN_END, np.random.default_rng(0))
    assert agent.estimate(OPEN_END, (RESOLVE_END, 0)) == (pytest.approx(3.0, abs=1e-3), 1)
    assert agent.estimate(OPEN_END, (PERCUSSION_CHANGE, 0))[0] == pytest.approx(0.0, abs=1e-3)
    assert agent.table.count("perc") == len(OPEN_END)  # every note's drum change was simulated
