"""Benchmark of the tutor's teaching policies on simulated learners: ``python -m inference.bench.tutor --json``.

For each learner family (``bkt``, ``skills``, ``practice``) and seed, one simulated course and 1,000 learners
are taught by each policy (common random numbers: the same course and learners for every policy). PPO was
trained on one family only (its model's sidecar says which), so the other families test transfer. Measures
per learner, with 95 % bootstrap intervals over learners of all seeds: normalised gain after 50 exercises,
exercises to mastery (restricted mean: learners who never reach mastery in 200 takes count 200), mastered
share, dropout before mastery, and share of takes in the just-right band. ``ppo_static`` is PPO without the
per-learner adaptation, to show what the adaptation adds. Progress goes to stderr; the JSON goes last.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from inference.tutor.evaluate import HORIZON, LearnerOutcomes, run_population, summarise
from inference.tutor.policies import (
    DEFAULT_MODEL,
    DEFAULT_POLICY,
    FixedCurriculum,
    LearningProgressBandit,
    MasteryRule,
    Policy,
    PPOPolicy,
)
from inference.tutor.simulators import FAMILIES

MAIN_POLICIES = ("fixed", "mastery", "bandit", "ppo")
GOAL_REDUCTION = 0.30


def make_policies(model: Path, seed: int) -> dict[str, Policy]:
    return {
        "fixed": FixedCurriculum(seed),
        "mastery": MasteryRule(seed),
        "bandit": LearningProgressBandit(seed),
        "ppo": PPOPolicy(model, seed),
        "ppo_static": PPOPolicy(model, seed, is_adaptive=False),
    }


def model_info(model: Path) -> dict[str, Any]:
    sidecar = model.with_suffix(".json")
    if not sidecar.exists():
        raise SystemExit(f"{sidecar} is missing: train the model with python -m inference.tutor.train")
    return dict(json.loads(sidecar.read_text()))


def run(families: Sequence[str], seeds: Sequence[int], n_learners: int, model: Path) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {}
    for family in families:
        outcomes: dict[str, list[LearnerOutcomes]] = {}
        for seed in seeds:
            for name, policy in make_policies(model, seed).items():
                began = time.monotonic()
                out = run_population(policy, family, n_learners=n_learners, seed=seed)
                outcomes.setdefault(name, []).append(out)
                print(f"{family:9s} seed {seed} {name:10s} to mastery {out.exercises_to_mastery.mean():6.1f} "
                      f"dropout {out.has_dropped_out.mean():.3f} ({time.monotonic() - began:.1f} s)",
                      file=sys.stderr, flush=True)
        results[family] = {name: summarise(LearnerOutcomes.concat(parts)) for name, parts in outcomes.items()}
    return results


def judge(results: dict[str, Any], default: str, trained_on: str) -> dict[str, Any]:
    """Does the default policy need >= 30 % fewer exercises than fixed, with no more dropout, on >= 2 families
    including one it never trained on? And does PPO beat the bandit?"""
    per_family = {}
    for family, by_policy in results.items():
        fixed, chosen = by_policy["fixed"], by_policy[default]
        reduction = 1.0 - chosen["exercises_to_mastery"]["mean"] / fixed["exercises_to_mastery"]["mean"]
        no_more_dropout = chosen["dropout"]["mean"] <= fixed["dropout"]["mean"]
        per_family[family] = {"reduction_vs_fixed": round(reduction, 4), "no_more_dropout": no_more_dropout,
                              "meets": reduction >= GOAL_REDUCTION and no_more_dropout}
    met = [f for f, v in per_family.items() if v["meets"]]
    ppo_vs_bandit = {f: round(r["ppo"]["exercises_to_mastery"]["mean"] - r["bandit"]["exercises_to_mastery"]["mean"], 2)
                     for f, r in results.items()}
    return {
        "per_family": per_family,
        "goal_met": len(met) >= 2 and any(f != trained_on for f in met),
        "ppo_minus_bandit_exercises_to_mastery": ppo_vs_bandit,
        "ppo_beats_bandit": sum(ppo_vs_bandit.values()) < 0,
    }


def summary(results: dict[str, Any], trained_on: str) -> dict[str, Any]:
    """The headline figures, in the shape issue 6 fixes."""

    def means(family: str, measure: str) -> dict[str, float]:
        return {p: results[family][p][measure]["mean"] for p in MAIN_POLICIES}

    return {
        "default_policy": DEFAULT_POLICY,
        "families": {
            family: {"trained_on": family == trained_on, "exercises_to_mastery": means(family, "exercises_to_mastery"),
                     "dropout": means(family, "dropout")}
            for family in results
        },
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the JSON result (last on stdout)")
    parser.add_argument("--quick", action="store_true", help="one seed and 500 learners per family")
    parser.add_argument("--learners", type=int, default=None, help="learners per family and seed (default 1000)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default 0 1 2 (quick: 0)")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args(argv)
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    n_learners = args.learners or (500 if args.quick else 1000)
    info = model_info(args.model)
    trained_on = info["config"]["family"]
    began = time.monotonic()
    results = run(FAMILIES, seeds, n_learners, args.model)
    report = {
        "benchmark": "tutor",
        "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count()},
        "config": {"learners_per_family_and_seed": n_learners, "seeds": seeds, "horizon": HORIZON,
                   "quick": args.quick, "seconds": round(time.monotonic() - began, 1)},
        "model": {"path": str(args.model), "trained_on": trained_on, "command": info.get("command"),
                  "sha256": info.get("sha256")},
        "families": results,
        "goal": judge(results, DEFAULT_POLICY, trained_on),
        "summary": summary(results, trained_on),
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(json.dumps(report["summary"], indent=2))
    return report


if __name__ == "__main__":
    main()
