"""A2C and PPO for the score-following game (Mnih et al., 2016; Schulman et al., 2017), in plain torch.

Both share the rollout, generalised advantage estimation and the network; PPO optimises a clipped surrogate
over several epochs of minibatches, A2C takes one plain policy-gradient step per rollout. Runs on the device
``inference.runtime.torch_device()`` picks (CUDA when present).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from inference.following.rl.env import FollowingGame, Observation, Track
from inference.following.rl.model import Policy, make_model


@dataclass(frozen=True)
class TrainConfig:
    algo: str = "ppo"
    steps: int = 1_000_000
    n_envs: int = 16
    rollout: int = 128
    epochs: int = 4
    minibatch: int = 512
    lr: float = 3e-4
    gamma: float = 0.9
    lam: float = 0.95
    clip: float = 0.2
    entropy: float = 0.01
    value_weight: float = 0.5
    max_grad_norm: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        if self.algo not in ("ppo", "a2c"):
            raise ValueError(f"algo must be 'ppo' or 'a2c', not {self.algo!r}")


@dataclass
class TrainLog:
    """What training printed, kept for the model card."""

    config: dict
    updates: list[dict] = field(default_factory=list)


def _tensors(obs: Observation, device: torch.device) -> dict[str, torch.Tensor]:
    return {name: torch.from_numpy(array).to(device) for name, array in obs.inputs.items()}


def _advantages(rewards, values, dones, last_value, gamma, lam):  # type: ignore[no-untyped-def]
    steps = rewards.shape[0]
    adv = torch.zeros_like(rewards)
    running = torch.zeros_like(last_value)
    for t in reversed(range(steps)):
        next_value = last_value if t == steps - 1 else values[t + 1]
        alive = 1.0 - dones[t]
        delta = rewards[t] + gamma * next_value * alive - values[t]
        running = delta + gamma * lam * alive * running
        adv[t] = running
    return adv, adv + values


def train(
    tracks: Sequence[Track],
    config: TrainConfig,
    *,
    device: torch.device | None = None,
    model: Policy | None = None,
    on_update: Callable[[Policy, dict], None] | None = None,
    log_every: int = 10,
) -> tuple[Policy, TrainLog]:
    """Train on ``tracks`` for ``config.steps`` agent steps; ``on_update`` sees every update's stats."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    device = device or torch.device("cpu")
    model = (model or make_model("image" if tracks[0].is_image else "roll")).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, eps=1e-5)
    game = FollowingGame(tracks, config.n_envs, rng)
    log = TrainLog(config=asdict(config))
    obs = game.observe()
    n_updates = max(1, config.steps // (config.n_envs * config.rollout))
    started = time.monotonic()
    episode_lengths: list[int] = []
    running_length = np.zeros(config.n_envs, dtype=int)
    for update in range(1, n_updates + 1):
        batch, rewards, dones, values, actions, logps = [], [], [], [], [], []
        for _ in range(config.rollout):
            inputs = _tensors(obs, device)
            with torch.no_grad():
                logits, value = model(**inputs)
                dist = torch.distributions.Categorical(logits=logits)
                action = dist.sample()
            reward, done, _ = game.step(action.cpu().numpy())
            running_length += 1
            episode_lengths += running_length[done].tolist()
            running_length[done] = 0
            batch.append(inputs)
            actions.append(action)
            logps.append(dist.log_prob(action))
            values.append(value)
            rewards.append(torch.from_numpy(reward).to(device))
            dones.append(torch.from_numpy(done.astype(np.float32)).to(device))
            obs = game.observe()
        with torch.no_grad():
            _, last_value = model(**_tensors(obs, device))
        adv, returns = _advantages(
            torch.stack(rewards), torch.stack(values), torch.stack(dones), last_value, config.gamma, config.lam
        )
        stats = _optimise(model, optimiser, batch, actions, logps, adv, returns, config)
        stats.update(
            update=update,
            steps=update * config.n_envs * config.rollout,
            mean_reward=float(torch.stack(rewards).mean()),
            mean_episode_frames=float(np.mean(episode_lengths[-200:])) if episode_lengths else 0.0,
            seconds=round(time.monotonic() - started, 1),
        )
        log.updates.append(stats)
        if on_update:
            on_update(model, stats)
        if update % log_every == 0 or update == n_updates:
            print(
                f"[{config.algo}] update {update}/{n_updates} steps {stats['steps']} "
                f"reward {stats['mean_reward']:.3f} episode {stats['mean_episode_frames']:.0f} frames "
                f"entropy {stats['entropy']:.3f} ({stats['seconds']} s)",
                file=sys.stderr,
                flush=True,
            )
    return model, log


def _optimise(model, optimiser, batch, actions, logps, adv, returns, config: TrainConfig) -> dict:  # type: ignore[no-untyped-def]
    inputs = {name: torch.cat([b[name] for b in batch]) for name in batch[0]}
    actions_t, old_logp = torch.cat(actions), torch.cat(logps)
    adv_t, returns_t = adv.reshape(-1), returns.reshape(-1)
    adv_t = (adv_t - adv_t.mean()) / (adv_t.std() + 1e-8)
    n = len(actions_t)
    epochs, minibatch = (config.epochs, config.minibatch) if config.algo == "ppo" else (1, n)
    totals = {"policy_loss": 0.0, "value_loss": 0.0, "entropy": 0.0}
    count = 0
    for _ in range(epochs):
        order = torch.randperm(n, device=actions_t.device)
        for start in range(0, n, minibatch):
            idx = order[start : start + minibatch]
            logits, value = model(**{name: tensor[idx] for name, tensor in inputs.items()})
            dist = torch.distributions.Categorical(logits=logits)
            logp = dist.log_prob(actions_t[idx])
            if config.algo == "ppo":
                ratio = torch.exp(logp - old_logp[idx])
                clipped = torch.clamp(ratio, 1 - config.clip, 1 + config.clip)
                policy_loss = -torch.min(ratio * adv_t[idx], clipped * adv_t[idx]).mean()
            else:
                policy_loss = -(logp * adv_t[idx]).mean()
            value_loss = (returns_t[idx] - value).pow(2).mean()
            entropy = dist.entropy().mean()
            loss = policy_loss + config.value_weight * value_loss - config.entropy * entropy
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            optimiser.step()
            totals["policy_loss"] += float(policy_loss.detach())
            totals["value_loss"] += float(value_loss.detach())
            totals["entropy"] += float(entropy.detach())
            count += 1
    return {k: v / count for k, v in totals.items()}


def save_checkpoint(model: Policy, log: TrainLog, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": model.state_dict(), "variant": model.variant, "log": asdict(log)}, path)


def load_checkpoint(path: str | Path) -> Policy:
    """A policy from a training checkpoint, or rebuilt from an exported ``.onnx`` agent's weights."""
    if str(path).endswith(".onnx"):
        return load_onnx_weights(path)
    data = torch.load(path, map_location="cpu", weights_only=False)
    model = make_model(data.get("variant", "roll"))
    model.load_state_dict(data["state_dict"])
    return model


def load_onnx_weights(path: str | Path) -> Policy:
    """The symbolic-view policy whose weights an exported agent carries (ONNX initializers are named as the
    torch parameters), so that a shipped agent can be fine-tuned without its training checkpoint."""
    import onnx
    from onnx import numpy_helper

    initializers = onnx.load(str(path)).graph.initializer
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in initializers}
    model = make_model("image" if any(name.startswith("spec_encoder") for name in weights) else "roll")
    model.load_state_dict(weights)
    return model
