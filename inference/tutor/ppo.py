"""PPO (Schulman et al. 2017) for the tutor: a small actor-critic that scores each candidate exercise.

The network reads, for every exercise in the catalogue, that exercise's features together with the learner's
(``LearnerHistory.features``), so one model serves any course, whatever its size. Per candidate it gives an
exercise logit and tempo and help logits; the critic pools over candidates. Training runs whole simulated
episodes (until mastery, quitting or the horizon) of a population of learners of one family, with a new
simulated course every iteration. Optionally it also learns from logged product decisions by
advantage-weighted regression (Peng et al. 2019), which is how the product retrains from its own logs.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from inference.tutor.exercises import HELPS, TEMPO_FACTORS, Actions, simulated_catalogue
from inference.tutor.history import N_FEATURES, LearnerHistory
from inference.tutor.policies import TutorObs, _sample, _softmax
from inference.tutor.simulators import MASTERY_POST_TEST, make_simulator

ONNX_INPUTS = ("features", "mask")
ONNX_OUTPUTS = ("exercise_logits", "tempo_logits", "help_logits", "value")
_NEG = -1e9


class ActorCritic(nn.Module):
    def __init__(self, n_features: int = N_FEATURES, hidden: int = 32) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_features, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.exercise_head = nn.Linear(hidden, 1)
        self.tempo_head = nn.Linear(hidden, len(TEMPO_FACTORS))
        self.help_head = nn.Linear(hidden, len(HELPS))
        self.critic = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(
        self, features: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.encoder(features)
        exercise = self.exercise_head(h).squeeze(-1) + (mask - 1.0) * -_NEG
        weights = mask.unsqueeze(-1)
        mean = (h * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        peak = (h + (weights - 1.0) * 4.0).amax(dim=1)  # tanh outputs lie in [-1, 1]: masked ones drop out
        value = self.critic(torch.cat([mean, peak], dim=-1)).squeeze(-1)
        return exercise, self.tempo_head(h), self.help_head(h), value


def export_onnx(model: ActorCritic) -> bytes:
    """The model as ONNX bytes with dynamic learner and exercise axes."""
    model = model.cpu().eval()
    example = (torch.zeros(1, 3, N_FEATURES), torch.ones(1, 3))
    buffer = io.BytesIO()
    axes = {"features": {0: "learners", 1: "exercises"}, "mask": {0: "learners", 1: "exercises"},
            "exercise_logits": {0: "learners", 1: "exercises"}, "tempo_logits": {0: "learners", 1: "exercises"},
            "help_logits": {0: "learners", 1: "exercises"}, "value": {0: "learners"}}
    with warnings.catch_warnings():
        # The TorchScript exporter needs no extra packages; torch flags it as legacy.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model, example, buffer,  # type: ignore[arg-type]  # file-like objects work; the stub says paths only
            dynamo=False, input_names=list(ONNX_INPUTS), output_names=list(ONNX_OUTPUTS), dynamic_axes=axes,
            opset_version=17,
        )
    return buffer.getvalue()


@dataclass
class PPOConfig:
    family: str = "skills"
    iterations: int = 200
    learners: int = 128
    courses: int = 4
    horizon: int = 120
    min_exercises: int = 10
    max_exercises: int = 20
    hidden: int = 32
    lr: float = 1e-3
    epochs: int = 3
    minibatch: int = 2048
    gamma: float = 0.99
    lam: float = 0.95
    clip: float = 0.2
    entropy: float = 0.01
    value_coef: float = 0.5
    gain_reward: float = 10.0
    mastery_bonus: float = 1.0
    quit_penalty: float = 1.0
    step_cost: float = 0.02
    offline_weight: float = 0.5
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Batch:
    """Transitions of one iteration, flattened; every tensor has the transitions on axis 0."""

    features: torch.Tensor
    mask: torch.Tensor
    help_mask: torch.Tensor
    exercise: torch.Tensor
    tempo: torch.Tensor
    help: torch.Tensor
    log_prob: torch.Tensor
    advantage: torch.Tensor
    returns: torch.Tensor

    def to(self, device: torch.device) -> Batch:
        return Batch(**{name: getattr(self, name).to(device) for name in self.__dataclass_fields__})


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _policy_outputs(model: ActorCritic, features: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
    device = _device(model)
    with torch.no_grad():
        out = model(torch.from_numpy(features).to(device), torch.from_numpy(mask.astype(np.float32)).to(device))
    return [o.cpu().numpy().astype(np.float64) for o in out]


def collect(model: ActorCritic, cfg: PPOConfig, iteration: int) -> tuple[Batch, dict[str, float]]:
    """Several simulated courses, each with its own learners, run through whole episodes with the policy."""
    parts = [_collect_course(model, cfg, np.random.default_rng([cfg.seed, iteration, k]))
             for k in range(cfg.courses)]
    stats = {key: float(np.mean([p[1][key] for p in parts])) for key in parts[0][1]}
    return _concat([p[0] for p in parts]), stats


def _concat(batches: list[Batch]) -> Batch:
    """Stack batches from courses of different sizes, padding the exercise axis (padding is masked out)."""
    width = max(b.mask.shape[1] for b in batches)

    def pad(t: torch.Tensor) -> torch.Tensor:
        extra = width - t.shape[1]
        return nn.functional.pad(t, (0, 0, 0, extra) if t.dim() == 3 else (0, extra)) if extra else t

    return Batch(
        features=torch.cat([pad(b.features) for b in batches]), mask=torch.cat([pad(b.mask) for b in batches]),
        **{name: torch.cat([getattr(b, name) for b in batches]) for name in
           ("help_mask", "exercise", "tempo", "help", "log_prob", "advantage", "returns")},
    )


def _collect_course(model: ActorCritic, cfg: PPOConfig, rng: np.random.Generator) -> tuple[Batch, dict[str, float]]:
    catalogue = simulated_catalogue(rng, int(rng.integers(cfg.min_exercises, cfg.max_exercises + 1)))
    n, e = cfg.learners // cfg.courses, len(catalogue)
    sim = make_simulator(cfg.family, catalogue, n, seed=int(rng.integers(2**31)))
    history = LearnerHistory(n, e)
    available = rng.random((n, e)) > 0.1
    available[np.arange(n), rng.integers(0, e, n)] = True
    TutorObs(catalogue, history, available)  # checks the shapes and that everyone has an exercise
    post = sim.oracle_post_test()
    steps: list[dict[str, np.ndarray]] = []
    done = np.zeros(n, dtype=bool)
    for _ in range(cfg.horizon):
        active = sim.is_active & ~done
        if not active.any():
            break
        features = history.features(catalogue)
        ex_logits, tempo_logits, help_logits, value = _policy_outputs(model, features, available)
        help_logits = np.where(catalogue.help_mask[None], help_logits, _NEG)
        rows = np.arange(n)
        ex_probs = _softmax(ex_logits)
        exercise = _sample(rng, ex_probs)
        tempo_probs, help_probs = _softmax(tempo_logits[rows, exercise]), _softmax(help_logits[rows, exercise])
        tempo, help_ = _sample(rng, tempo_probs), _sample(rng, help_probs)
        log_prob = np.log(ex_probs[rows, exercise] * tempo_probs[rows, tempo] * help_probs[rows, help_] + 1e-12)
        actions = Actions(exercise, tempo, help_, np.exp(log_prob), ex_probs)
        seen = sim.step(actions)
        history.record(actions, seen.accuracy, seen.timing_error_ms, seen.tempo_reached, seen.rating, active)
        new_post = sim.oracle_post_test()
        mastered = new_post >= MASTERY_POST_TEST
        reward = cfg.gain_reward * (new_post - post) - cfg.step_cost
        reward += cfg.mastery_bonus * mastered - cfg.quit_penalty * seen.has_quit
        terminal = mastered | seen.has_quit
        steps.append({"features": features[active], "active": active, "exercise": exercise, "tempo": tempo,
                      "help": help_, "log_prob": log_prob, "value": value, "reward": reward, "terminal": terminal})
        post = new_post
        done |= terminal
    batch = _assemble(steps, available, catalogue.help_mask, cfg)
    stats = {"episode_return": float(sum((s["reward"] * s["active"]).sum() for s in steps) / n),
             "mastered": float(np.mean(post >= MASTERY_POST_TEST)),
             "dropout": float(np.mean(~sim.is_active & ~(post >= MASTERY_POST_TEST))),
             "episode_length": float(sum(s["active"].sum() for s in steps) / n)}
    return batch, stats


def _assemble(steps: list[dict[str, np.ndarray]], available: np.ndarray, help_mask: np.ndarray,
              cfg: PPOConfig) -> Batch:
    """Generalised advantage estimation per learner, then flatten to the active transitions."""
    t_len, n = len(steps), available.shape[0]
    rewards = np.stack([s["reward"] for s in steps])
    values = np.stack([s["value"] for s in steps])
    active = np.stack([s["active"] for s in steps])
    ends = np.stack([s["terminal"] for s in steps]) | ~np.roll(active, -1, axis=0)
    ends[-1] = True
    advantage = np.zeros((t_len, n))
    running = np.zeros(n)
    for t in reversed(range(t_len)):
        next_value = values[t + 1] if t + 1 < t_len else np.zeros(n)
        live = ~ends[t]
        delta = rewards[t] + cfg.gamma * next_value * live - values[t]
        running = delta + cfg.gamma * cfg.lam * live * running
        advantage[t] = running
    returns = advantage + values
    who = [np.flatnonzero(a) for a in active]
    pick = lambda key: np.concatenate([s[key][w] for s, w in zip(steps, who, strict=True)])  # noqa: E731
    adv = np.concatenate([advantage[t][w] for t, w in enumerate(who)])
    rets = np.concatenate([returns[t][w] for t, w in enumerate(who)])
    exercise = pick("exercise")
    return Batch(
        features=torch.from_numpy(np.concatenate([s["features"] for s in steps])),
        mask=torch.from_numpy(np.concatenate([available[w] for w in who]).astype(np.float32)),
        help_mask=torch.from_numpy(help_mask[exercise]),
        exercise=torch.from_numpy(exercise), tempo=torch.from_numpy(pick("tempo")), help=torch.from_numpy(pick("help")),
        log_prob=torch.from_numpy(pick("log_prob")).float(),
        advantage=torch.from_numpy((adv - adv.mean()) / (adv.std() + 1e-8)).float(),
        returns=torch.from_numpy(rets).float(),
    )


def log_prob_and_entropy(
    model: ActorCritic, features: torch.Tensor, mask: torch.Tensor, help_mask: torch.Tensor,
    exercise: torch.Tensor, tempo: torch.Tensor, help_: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """log pi(action), the policy's entropy, and the value, for a batch of transitions."""
    ex_logits, tempo_logits, help_logits, value = model(features, mask)
    rows = torch.arange(len(exercise), device=exercise.device)
    ex_logp = torch.log_softmax(ex_logits, dim=-1)
    tempo_logp = torch.log_softmax(tempo_logits[rows, exercise], dim=-1)
    help_logp = torch.log_softmax(help_logits[rows, exercise].masked_fill(~help_mask, _NEG), dim=-1)
    log_prob = ex_logp[rows, exercise] + tempo_logp[rows, tempo] + help_logp[rows, help_]
    entropy = torch.stack([-(lp.exp() * lp.clamp(min=-30)).sum(-1) for lp in (ex_logp, tempo_logp, help_logp)]).sum(0)
    return log_prob, entropy, value


def update(model: ActorCritic, optimizer: torch.optim.Optimizer, batch: Batch, cfg: PPOConfig,
           logged: Batch | None = None, generator: torch.Generator | None = None) -> dict[str, float]:
    """Clipped-surrogate PPO epochs over ``batch``; ``logged`` adds an advantage-weighted regression term."""
    model.train()
    device = _device(model)
    batch = batch.to(device)
    logged = logged.to(device) if logged is not None else None
    total = len(batch.exercise)
    losses = []
    for _ in range(cfg.epochs):
        order = torch.randperm(total, generator=generator).to(device)
        for start in range(0, total, cfg.minibatch):
            idx = order[start : start + cfg.minibatch]
            log_prob, entropy, value = log_prob_and_entropy(
                model, batch.features[idx], batch.mask[idx], batch.help_mask[idx],
                batch.exercise[idx], batch.tempo[idx], batch.help[idx])
            ratio = torch.exp(log_prob - batch.log_prob[idx])
            adv = batch.advantage[idx]
            surrogate = torch.min(ratio * adv, ratio.clamp(1 - cfg.clip, 1 + cfg.clip) * adv)
            loss = -surrogate.mean() + cfg.value_coef * (value - batch.returns[idx]).pow(2).mean()
            loss = loss - cfg.entropy * entropy.mean()
            if logged is not None and len(logged.exercise):
                loss = loss + cfg.offline_weight * _offline_loss(model, logged)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
            losses.append(loss.item())
    return {"loss": float(np.mean(losses)), "transitions": float(total)}


def _offline_loss(model: ActorCritic, logged: Batch) -> torch.Tensor:
    log_prob, _, _ = log_prob_and_entropy(model, logged.features, logged.mask, logged.help_mask,
                                          logged.exercise, logged.tempo, logged.help)
    weights = torch.exp(logged.advantage.clamp(-2.0, 2.0))
    return -(weights * log_prob).mean()


def train(
    cfg: PPOConfig,
    *,
    model: ActorCritic | None = None,
    logged: Batch | None = None,
    progress: Callable[[int, dict[str, float]], None] | None = None,
    checkpoint: Callable[[int, ActorCritic, torch.optim.Optimizer], None] | None = None,
    start_iteration: int = 0,
    optimizer_state: dict[str, Any] | None = None,
    device: torch.device | None = None,
) -> ActorCritic:
    """Train (or fine-tune ``model``) for ``cfg.iterations``; deterministic for a given seed and thread count."""
    torch.manual_seed(cfg.seed)
    model = (model or ActorCritic(hidden=cfg.hidden)).to(device or torch.device("cpu"))
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    if optimizer_state is not None:
        optimizer.load_state_dict(optimizer_state)
    for iteration in range(start_iteration, cfg.iterations):
        batch, stats = collect(model, cfg, iteration)
        generator = torch.Generator().manual_seed(cfg.seed * 100_003 + iteration)
        stats |= update(model, optimizer, batch, cfg, logged, generator)
        if progress is not None:
            progress(iteration + 1, stats)
        if checkpoint is not None:
            checkpoint(iteration + 1, model, optimizer)
    model.eval()
    return model
