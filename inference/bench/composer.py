"""Benchmark of the composer: ``python -m inference.bench.composer --json [--quick]``.

Simulated raters of hidden taste (``inference.composer.raters``: steady, noisy, compressed, drifting) rate
every track an agent plays, for 10 episodes of ``RATINGS_PER_EPISODE`` ratings each. Compared: the original
agent of Justus (2023) as published, the original with its four flaws fixed, the improved agent, random
edits and hill-climbing; plus ablations of the model-based improved agent (generic prior instead of the
population's, no Q-values, deeper plans) and the four flaws put back one at a time. The improved agent's
reward model starts from a prior fitted on a population of earlier simulated learners (other seeds).
Reported: mean rating by episode, ratings needed to gain +2, final rating, 4-gram diversity of the
episodes' final tracks, and per-flaw mechanism figures (in-key share, credit correlation, action spread).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from inference.composer.agents import (
    HILL_CLIMB,
    IMPROVED,
    IMPROVED_MODEL_FREE,
    ORIGINAL,
    ORIGINAL_FIXED,
    RANDOM_EDITS,
    AgentConfig,
    Edit,
    EditAgent,
)
from inference.composer.features import distinct_ngram_ratio, melody_features
from inference.composer.loop import RATINGS_PER_EPISODE, first_turn, rate_turn
from inference.composer.qtable import QTable
from inference.composer.raters import RATER_KINDS, SimulatedRater
from inference.composer.reward_model import LearnerStats, Prior, RewardModel, fit_population_prior, generic_prior
from inference.composer.track import SCALES, Track, TrackParams

EPISODES = 10
GAIN_AT = 10
"""``improved_gain_after_10``: the rating of the track heard after 10 ratings minus the first rating."""
POPULATION_SEED = 1_000_000
"""Earlier learners of the population prior use seeds from here on, never the measured sessions' seeds."""
POPULATION_LEARNERS = 200
"""As many as the web app pools (``webapp.composer.services.POPULATION_LEARNERS``)."""
POPULATION_EPISODES = 2
POPULATION_COHORTS = 3
SESSION_SCALES = ("major", "minor", "dorian", "mixolydian", "harmonic_minor", "major_pentatonic")

MODEL_FREE = IMPROVED_MODEL_FREE
ABLATIONS: dict[str, AgentConfig] = {
    # The model-based agent without parts of it.
    "improved_generic_prior": replace(IMPROVED, name="improved_generic_prior"),
    "improved_without_q": replace(IMPROVED, name="improved_without_q", q_weight=0.0),
    "improved+flaw2_credit_after": replace(IMPROVED, name="improved+flaw2_credit_after", credit="after"),
    "improved+flaw4_semitone_steps": replace(IMPROVED, name="improved+flaw4_semitone_steps", in_scale=False),
    # The flaws put back one at a time into the model-free agent, whose choices rest on the Q-values alone.
    "model_free+flaw1_current_max": replace(MODEL_FREE, name="model_free+flaw1_current_max", bootstrap="current"),
    "model_free+flaw2_credit_after": replace(MODEL_FREE, name="model_free+flaw2_credit_after", credit="after"),
    "model_free_epsilon_slow_decay": replace(
        MODEL_FREE, name="model_free_epsilon_slow_decay", exploration="epsilon", explore_first_episode=False
    ),
    "model_free+flaw3_epsilon_collapse": replace(
        MODEL_FREE,
        name="model_free+flaw3_epsilon_collapse",
        exploration="epsilon",
        explore_first_episode=True,
        epsilon_decay=0.01,
        epsilon_floor=0.0,
    ),
    "model_free+flaw4_semitone_steps": replace(MODEL_FREE, name="model_free+flaw4_semitone_steps", in_scale=False),
    "model_free_softmax": replace(MODEL_FREE, name="model_free_softmax", exploration="softmax"),
    "original_native_episodes": replace(ORIGINAL, name="original_native_episodes"),
}
GENERIC_PRIOR_CONFIGS = {"improved_generic_prior"}
"""Configurations whose reward model starts from the generic prior; the others start from the population's."""
ORACLE = replace(HILL_CLIMB, name="oracle_greedy")
"""Not an agent a learner could have: it reads the rater's hidden taste and plays the best single edit.
It bounds what any one-edit-per-rating agent can gain in a few ratings."""
HEADLINE = {c.name: c for c in (ORIGINAL, ORIGINAL_FIXED, IMPROVED, MODEL_FREE, RANDOM_EDITS, HILL_CLIMB, ORACLE)}


class OracleAgent(EditAgent):
    def __init__(self, config: AgentConfig, params: TrackParams, rater: SimulatedRater) -> None:
        super().__init__(config, params)
        self.rater = rater

    def choose(self, track: Track, episode: int, rng: np.random.Generator) -> Edit:
        return (max(self.candidates(track), key=lambda a: self.rater.score(self.apply(track, a), self.params)),)


@dataclass
class SessionLog:
    ratings: list[int] = field(default_factory=list)
    episode_finals: list[Any] = field(default_factory=list)
    in_key: list[float] = field(default_factory=list)
    credit_pairs: list[tuple[float, float]] = field(default_factory=list)
    actions: list[tuple[tuple[int, int], ...]] = field(default_factory=list)
    q_entries: int = 0
    per_episode: int = RATINGS_PER_EPISODE
    params: TrackParams = field(default_factory=TrackParams)
    model_stats: LearnerStats | None = None


def session_params(seed: int) -> TrackParams:
    rng = np.random.default_rng(10_000 + seed)
    return TrackParams(
        base_note=int(rng.integers(55, 68)), scale=str(rng.choice(SESSION_SCALES)), length=8, tempo_bpm=90
    )


def run_session(
    config: AgentConfig, kind: str, seed: int, episodes: int = EPISODES, prior: Prior | None = None
) -> SessionLog:
    """One learner (a simulated rater) with a fresh agent for ``episodes`` episodes; a planning agent's reward
    model starts from ``prior`` (the population's, or the generic one)."""
    params = session_params(seed)
    rater = SimulatedRater(kind, seed)
    if config is ORACLE:
        agent: EditAgent = OracleAgent(config, params, rater)
    else:
        model = RewardModel(prior, config.model_forget) if config.planner == "model" else None
        agent = EditAgent(config, params, model=model)
    rng = np.random.default_rng(seed)
    per_episode = params.length if config.name == "original_native_episodes" else RATINGS_PER_EPISODE
    log = SessionLog(per_episode=per_episode, params=params)
    turn = first_turn(params, rng)
    while turn.episode < episodes:
        rating = rater.rate(turn.track, params)
        log.ratings.append(rating)
        log.in_key.append(melody_features(turn.track, params).in_key)
        if turn.step == per_episode - 1:
            log.episode_finals.append(turn.track)
        before = turn
        turn, outcome = rate_turn(agent, turn, float(rating), rng, ratings_per_episode=per_episode)
        if outcome.credited is not None and outcome.reward is not None:
            origin = before.parent if config.credit == "producing" else before.track
            if origin is not None:
                effect = rater.score(agent.apply_all(origin, outcome.credited), params) - rater.score(origin, params)
                log.credit_pairs.append((outcome.reward, effect))
                log.actions.append(outcome.credited)
    log.q_entries = len(agent.table)
    log.model_stats = agent.model.stats if agent.model is not None else None
    return log


def population_prior(
    config: AgentConfig, learners: int, cohorts: int = POPULATION_COHORTS, stats: list[LearnerStats] | None = None
) -> Prior:
    """The prior a new learner would get in a deployment where ``learners`` earlier learners (other seeds, all
    rater kinds) each rated ``POPULATION_EPISODES`` episodes with the agent. They arrive in cohorts: the first
    starts from the generic prior, and each later cohort from the prior fitted on everyone before it. The
    learners' statistics are appended to ``stats`` when given."""
    prior, stats = generic_prior(), ([] if stats is None else stats)
    for cohort in np.array_split(np.arange(learners), cohorts):
        for j in cohort:
            seed = POPULATION_SEED + int(j)
            log = run_session(config, RATER_KINDS[int(j) % len(RATER_KINDS)], seed, POPULATION_EPISODES, prior)
            assert log.model_stats is not None
            stats.append(log.model_stats)
        prior = fit_population_prior(stats)
    return prior


def summarise(logs: list[SessionLog]) -> dict[str, Any]:
    """Aggregate figures for one agent over all sessions (all rater kinds)."""
    per_episode = logs[0].per_episode
    ratings = np.array([log.ratings for log in logs], dtype=float)
    by_episode = ratings.reshape(len(logs), -1, per_episode).mean(axis=(0, 2))
    first_episode = ratings[:, :per_episode].mean(axis=0)
    needed = next((i for i, r in enumerate(first_episode) if r >= first_episode[0] + 2.0), None)
    tail = ratings.reshape(len(logs), -1, per_episode)[:, -3:, -4:]
    pairs = np.array([p for log in logs for p in log.credit_pairs])
    later_actions = [log.actions[per_episode:] for log in logs]
    return {
        "mean_rating_by_episode": [round(float(x), 3) for x in by_episode],
        "first_rating": round(float(ratings[:, 0].mean()), 3),
        "gain_after_10": round(float((ratings[:, GAIN_AT] - ratings[:, 0]).mean()), 3)
        if per_episode > GAIN_AT
        else None,
        "ratings_to_gain_2": needed,
        "final_rating": round(float(tail.mean()), 3),
        "distinct_4grams": round(float(np.mean([_diversity(log) for log in logs])), 3),
        "in_key_share_last_episode": round(float(np.mean([np.mean(log.in_key[-per_episode:]) for log in logs])), 3),
        "credit_correlation": round(float(np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1]), 3) if len(pairs) > 2 else None,
        "share_of_action_0_0_after_episode_1": round(
            float(np.mean([np.mean([a == ((0, 0),) for a in acts]) for acts in later_actions if acts])), 3
        ),
        "q_entries": int(np.mean([log.q_entries for log in logs])),
    }


def _diversity(log: SessionLog) -> float:
    return distinct_ngram_ratio(log.episode_finals, log.params)


def request_cost(prior: Prior, stats: list[LearnerStats], calls: int = 30) -> dict[str, float]:
    """What one web request costs the agent (milliseconds, median): rebuild the agent from its JSON, take a
    rating, learn, plan the next edit, and write the JSON back; and fitting a prior on a population."""
    params, rater, rng = session_params(0), SimulatedRater("steady", 0), np.random.default_rng(0)
    model = RewardModel(prior)
    agent = EditAgent(IMPROVED, params, model=model)
    turn = first_turn(params, rng)
    for _ in range(5 * RATINGS_PER_EPISODE):  # a learner some way into their sessions
        turn, _ = rate_turn(agent, turn, float(rater.rate(turn.track, params)), rng)
    rate_ms = []
    for _ in range(calls):
        began = time.perf_counter()
        model = RewardModel.from_json(model.to_json())
        agent = EditAgent(IMPROVED, params, QTable.from_json(agent.table.to_json()), model)
        turn, _ = rate_turn(agent, turn, float(rater.rate(turn.track, params)), rng)
        json.dumps({"q": agent.table.to_json(), "model": model.to_json()})
        rate_ms.append(1000 * (time.perf_counter() - began))
    began = time.perf_counter()
    fit_population_prior(stats)
    return {
        "rate_request_ms": round(float(np.median(rate_ms)), 1),
        "population_fit_ms": round(1000 * (time.perf_counter() - began), 1),
        "population_fit_learners": len(stats),
    }


def run(seeds: int, configs: dict[str, AgentConfig], prior: Prior) -> dict[str, Any]:
    """Every configuration with ``seeds`` learners of each rater kind; planning agents start from ``prior``."""
    results: dict[str, Any] = {}
    for name, config in configs.items():
        began = time.perf_counter()
        start = None if name in GENERIC_PRIOR_CONFIGS else prior
        by_kind = {kind: [run_session(config, kind, s, prior=start) for s in range(seeds)] for kind in RATER_KINDS}
        everything = [log for logs in by_kind.values() for log in logs]
        results[name] = {
            "all": summarise(everything),
            "by_rater": {k: summarise(v) for k, v in by_kind.items()},
        }
        overall = results[name]["all"]
        print(
            f"{name:34s} first {overall['first_rating']:.2f} gain@10 {overall['gain_after_10']} "
            f"final {overall['final_rating']:.2f} distinct4 {overall['distinct_4grams']:.2f} "
            f"({time.perf_counter() - began:.1f} s)",
            file=sys.stderr,
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object last on stdout")
    parser.add_argument("--quick", action="store_true", help="8 sessions per rater kind instead of 40")
    parser.add_argument("--seeds", type=int, default=None, help="sessions per rater kind")
    args = parser.parse_args(argv)
    seeds = args.seeds or (8 if args.quick else 40)
    began = time.perf_counter()
    population_stats: list[LearnerStats] = []
    prior = population_prior(IMPROVED, POPULATION_LEARNERS, stats=population_stats)
    population: dict[str, Any] = {
        "learners": POPULATION_LEARNERS,
        "episodes_each": POPULATION_EPISODES,
        "cohorts": POPULATION_COHORTS,
        "noise_sd": round(prior.noise_sd, 3),
        "seconds": round(time.perf_counter() - began, 1),
    }
    print(f"population prior from {POPULATION_LEARNERS} earlier learners ({population['seconds']} s)", file=sys.stderr)
    results = run(seeds, {**HEADLINE, **ABLATIONS}, prior)
    population["request_cost"] = request_cost(prior, population_stats)
    print(f"request cost {population['request_cost']}", file=sys.stderr)
    improved = results["improved"]["all"]
    summary = {
        "improved_gain_after_10": improved["gain_after_10"],
        "improved_final": improved["final_rating"],
        "original_final": results["original"]["all"]["final_rating"],
        "random_final": results["random"]["all"]["final_rating"],
        "hillclimb_final": results["hillclimb"]["all"]["final_rating"],
        "oracle_gain_after_10": results["oracle_greedy"]["all"]["gain_after_10"],
        "improved_distinct_4grams": improved["distinct_4grams"],
        "improved_ratings_to_gain_2": improved["ratings_to_gain_2"],
        "improved_generic_prior_gain_after_10": results["improved_generic_prior"]["all"]["gain_after_10"],
        "improved_model_free_gain_after_10": results["improved_model_free"]["all"]["gain_after_10"],
        "improved_model_free_final": results["improved_model_free"]["all"]["final_rating"],
    }
    report = {
        "benchmark": "composer",
        "sessions_per_rater_kind": seeds,
        "rater_kinds": list(RATER_KINDS),
        "episodes": EPISODES,
        "ratings_per_episode": RATINGS_PER_EPISODE,
        "population": population,
        "scales": [s for s in SESSION_SCALES if s in SCALES],
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "seconds": round(time.perf_counter() - began, 1),
        "agents": results,
        "summary": summary,
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
