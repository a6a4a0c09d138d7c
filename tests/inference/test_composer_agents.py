"""Q-learning of the composer agents: the update, credit assignment, exploration schedules, serialization,
and learning against a simulated rater."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from inference.composer.agents import IMPROVED, ORIGINAL, ORIGINAL_FIXED, RANDOM_EDITS, EditAgent
from inference.composer.loop import RatingError, Turn, check_rating, compound_rating, first_turn, rate_turn
from inference.composer.qtable import QTable, q_update
from inference.composer.raters import SimulatedRater
from inference.composer.track import PERCUSSION, PITCH_DOWN, PITCH_UP, Track, TrackParams, random_track

C_MAJOR = TrackParams(base_note=60, scale="major", length=8, tempo_bpm=90)
TRACK = Track((60, 64, 62, 67, 65, 64, 62, 71), (0.5,) * 8, tuple(PERCUSSION[i % 2] for i in range(16)))


def test_q_update_matches_the_hand_computed_value() -> None:
    assert q_update(5.0, 7.0, 6.0, alpha=0.1, gamma=0.9) == pytest.approx(5.74)


def _exact_key(track: Track, action: tuple[int, int]) -> str:
    return f"{track.key()}#{action[0]},{action[1]}"


@pytest.mark.parametrize(("config", "expected"), [(ORIGINAL_FIXED, 5.74), (ORIGINAL, 5.92)])
def test_the_update_bootstraps_from_the_next_state_unless_the_original_flaw_is_kept(config, expected) -> None:  # type: ignore[no-untyped-def]
    agent = EditAgent(replace(config, in_scale=True), C_MAJOR)
    action = (PITCH_UP, 0)
    next_track = agent.apply(TRACK, action)
    agent.table.set(_exact_key(TRACK, action), 5.0)
    agent.table.set(_exact_key(TRACK, (PITCH_DOWN, 3)), 8.0)  # the best value in the current state
    agent.table.set(_exact_key(next_track, (PITCH_DOWN, 1)), 6.0)  # the best value in the next state
    assert agent.learn(TRACK, (action,), 7.0, next_track) == pytest.approx(expected)


def test_a_rating_is_credited_to_the_edit_that_produced_the_rated_track() -> None:
    agent = EditAgent(replace(ORIGINAL_FIXED, epsilon_floor=0.0), C_MAJOR)
    edit = ((PITCH_UP, 2),)
    rated = agent.apply(TRACK, edit[0])
    turn = Turn(episode=3, step=1, track=rated, parent=TRACK, edit=edit, parent_rating=5.0)
    _, outcome = rate_turn(agent, turn, 9.0, np.random.default_rng(0))
    assert outcome.credited == edit
    assert agent.table.get(_exact_key(TRACK, edit[0])) == pytest.approx(0.9)  # 0 + 0.1 * (9 + 0.9 * 0 - 0)
    assert len(agent.table) == 1


def test_the_original_credits_the_action_chosen_after_listening() -> None:
    agent = EditAgent(ORIGINAL, C_MAJOR)
    turn = Turn(episode=3, step=1, track=TRACK, parent=None, edit=None)
    next_turn, outcome = rate_turn(agent, turn, 9.0, np.random.default_rng(0))
    assert outcome.credited is not None and next_turn.edit == outcome.credited
    assert agent.table.get(_exact_key(TRACK, outcome.credited[0])) == pytest.approx(0.9)


def test_epsilon_of_the_original_collapses_after_one_episode_and_the_fix_keeps_exploring() -> None:
    original, fixed = EditAgent(ORIGINAL, C_MAJOR), EditAgent(ORIGINAL_FIXED, C_MAJOR)
    assert [round(original.epsilon(e), 6) for e in range(3)] == [0.5, 0.005, 0.00005]
    assert [round(fixed.epsilon(e), 3) for e in (0, 1, 5, 30)] == [0.5, 0.4, 0.164, 0.05]
    rng = np.random.default_rng(1)
    late_choices = {original.choose(TRACK, 2, rng) for _ in range(200)}
    assert late_choices == {((0, 0),)}  # unseen state, all Q = 0, Python's max takes the first action
    assert len({original.choose(TRACK, 0, rng) for _ in range(200)}) > 20  # episode 0 explores at random


def test_q_table_round_trips_through_json_and_keeps_its_size_limit() -> None:
    table = QTable(max_entries=3)
    for i, value in enumerate([1.5, -2.25, 3.0, 4.125]):
        table.set(f"k{i}", value)
    table.set("k3", 5.0)
    restored = QTable.from_json(json.loads(json.dumps(table.to_json())), max_entries=3)
    assert len(restored) == 3 and "k0" not in restored
    assert (restored.get("k3"), restored.count("k3")) == (5.0, 2)
    assert restored.to_json() == table.to_json()
    with pytest.raises(ValueError, match="Q-table"):
        QTable.from_json({"version": 99, "q": {}})


def test_turns_round_trip_through_their_json_form() -> None:
    agent = EditAgent(IMPROVED, C_MAJOR)
    rng = np.random.default_rng(2)
    turn = first_turn(C_MAJOR, rng)
    turn, _ = rate_turn(agent, turn, 5.0, rng)
    assert Turn.from_dict(json.loads(json.dumps(turn.to_dict()))) == turn


@pytest.mark.parametrize(("value", "ok"), [(1, True), (10, True), ("7", True), (0, False), (11, False), (7.5, False),
                                           ("seven", False), (True, False), (None, False)])  # fmt: skip
def test_ratings_must_be_whole_numbers_from_1_to_10(value: object, ok: bool) -> None:
    if ok:
        assert 1 <= check_rating(value) <= 10
    else:
        with pytest.raises(RatingError):
            check_rating(value)


def test_compound_rating_blends_optional_aspects() -> None:
    assert compound_rating(8) == 8.0
    assert compound_rating(8, {"musicality": 4}) == pytest.approx((8 + 0.5 * 4) / 1.5)
    with pytest.raises(RatingError, match="Unknown extra"):
        compound_rating(8, {"loudness": 3})


def _mean_late_rating(config, seeds: range) -> float:  # type: ignore[no-untyped-def]
    ratings = []
    for seed in seeds:
        params = TrackParams(base_note=60 + seed % 5, scale="major", length=8)
        rater, agent, rng = SimulatedRater("steady", seed), EditAgent(config, params), np.random.default_rng(seed)
        turn = first_turn(params, rng)
        while turn.episode < 5:
            rating = rater.rate(turn.track, params)
            if turn.episode >= 3:
                ratings.append(rating)
            turn, _ = rate_turn(agent, turn, float(rating), rng)
    return float(np.mean(ratings))


def test_the_improved_agent_learns_what_a_simulated_rater_likes_within_60_ratings() -> None:
    seeds = range(8)
    improved, random_edits = _mean_late_rating(IMPROVED, seeds), _mean_late_rating(RANDOM_EDITS, seeds)
    assert improved >= random_edits + 0.5
    starts = [SimulatedRater("steady", s).rate(random_track(C_MAJOR, np.random.default_rng(s)), C_MAJOR) for s in seeds]
    assert improved > float(np.mean(starts))
