"""PPO learns something in seconds on a tiny setting, and the ONNX export computes what torch computes."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from inference.runtime import onnx_session  # noqa: E402
from inference.tutor.evaluate import run_population  # noqa: E402
from inference.tutor.exercises import TEMPO_FACTORS, Actions  # noqa: E402
from inference.tutor.history import N_FEATURES  # noqa: E402
from inference.tutor.policies import Policy, PPOPolicy, TutorObs  # noqa: E402
from inference.tutor.ppo import ONNX_OUTPUTS, ActorCritic, PPOConfig, export_onnx, train  # noqa: E402

TINY = PPOConfig(family="skills", iterations=10, learners=48, courses=2, horizon=40, min_exercises=6,
                 max_exercises=8, hidden=16, epochs=2, minibatch=512, lr=1e-2, seed=1)


class UniformRandom(Policy):
    """Any available exercise, tempo and help, uniformly."""

    name = "random"

    def act(self, obs: TutorObs) -> Actions:
        n, e = obs.available.shape
        probs = obs.available / obs.available.sum(axis=1, keepdims=True)
        exercise = np.array([self._rng.choice(e, p=p) for p in probs])
        tempo = self._rng.integers(0, len(TEMPO_FACTORS), n)
        help_ = np.array([self._rng.choice(np.flatnonzero(obs.catalogue.help_mask[j])) for j in exercise])
        return Actions(exercise, tempo, help_, probs[np.arange(n), exercise], probs)


def _mean_gain(policy: Policy) -> float:
    return float(run_population(policy, "skills", n_learners=300, seed=77, horizon=40).gain.mean())


def test_a_short_ppo_run_teaches_better_than_random_choices() -> None:
    torch.set_num_threads(1)
    trained = PPOPolicy(export_onnx(train(TINY)), seed=1, is_adaptive=False, is_greedy=True)
    assert _mean_gain(trained) > _mean_gain(UniformRandom(seed=1)) + 0.05


def test_training_is_reproducible_for_a_seed() -> None:
    cfg = PPOConfig(**{**TINY.to_dict(), "iterations": 2})
    first, second = (train(cfg) for _ in range(2))
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("n_exercises", [3, 17])
def test_onnx_export_matches_torch(n_exercises: int) -> None:
    torch.manual_seed(4)
    model = ActorCritic(hidden=24).eval()
    session = onnx_session(export_onnx(model))
    rng = np.random.default_rng(n_exercises)
    features = rng.normal(size=(5, n_exercises, N_FEATURES)).astype(np.float32)
    mask = (rng.random((5, n_exercises)) < 0.7).astype(np.float32)
    mask[:, 0] = 1.0
    expected = model(torch.from_numpy(features), torch.from_numpy(mask))
    got = session.run(list(ONNX_OUTPUTS), {"features": features, "mask": mask})
    for want, have in zip(expected, got, strict=True):
        np.testing.assert_allclose(have, want.detach().numpy(), rtol=1e-4, atol=1e-4)
