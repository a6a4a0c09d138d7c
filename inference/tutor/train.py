"""Train the tutor's PPO policy over a simulated learner population and export it to ONNX.

    python -m inference.tutor.train --seed 0 --family skills --iterations 120

Progress goes to stderr each iteration; checkpoints (model + optimiser) go to ``--checkpoint-dir`` every
``--checkpoint-every`` iterations and ``--resume`` continues from the latest. Each iteration draws its course,
learners and sampling from (seed, iteration), so a run resumed from a checkpoint ends where an uninterrupted
one would (for the same torch version and thread count). The ONNX model is written with a JSON sidecar
that records the exact command, the configuration and a short evaluation against the bandit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from inference.tutor.policies import DEFAULT_MODEL

CHECKPOINT_NAME = "tutor_ppo.pt"


def build_parser() -> argparse.ArgumentParser:
    from inference.tutor.ppo import PPOConfig
    from inference.tutor.simulators import FAMILIES

    defaults = PPOConfig()
    parser = argparse.ArgumentParser(prog="python -m inference.tutor.train", description=__doc__.split("\n")[0])
    parser.add_argument("--family", choices=FAMILIES, default=defaults.family, help="learner family to train on")
    parser.add_argument("--iterations", type=int, default=defaults.iterations)
    parser.add_argument("--learners", type=int, default=defaults.learners, help="simulated learners per iteration")
    parser.add_argument("--horizon", type=int, default=defaults.horizon, help="takes per episode at most")
    parser.add_argument("--hidden", type=int, default=defaults.hidden)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest on a shared machine)")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL, help="ONNX file to write")
    parser.add_argument("--checkpoint-dir", type=Path, default=Path("var/tutor-checkpoints"))
    parser.add_argument("--checkpoint-every", type=int, default=10)
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --checkpoint-dir")
    parser.add_argument("--eval-learners", type=int, default=300, help="learners per policy in the final check")
    return parser


def main(argv: list[str] | None = None) -> int:
    import torch

    from inference.runtime import torch_device
    from inference.tutor.ppo import PPOConfig, export_onnx, train

    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = PPOConfig(family=args.family, iterations=args.iterations, learners=args.learners, horizon=args.horizon,
                    hidden=args.hidden, lr=args.lr, seed=args.seed)
    device = torch_device()
    started = time.monotonic()
    ckpt_path = args.checkpoint_dir / CHECKPOINT_NAME
    start, model, opt_state = 0, None, None
    if args.resume and ckpt_path.exists():
        start, model, opt_state = _load_checkpoint(ckpt_path, cfg)
        print(f"resuming from {ckpt_path} at iteration {start}", file=sys.stderr)

    def progress(iteration: int, stats: dict[str, float]) -> None:
        print(f"iter {iteration:4d}/{cfg.iterations} return {stats['episode_return']:6.2f} "
              f"mastered {stats['mastered']:.2f} dropout {stats['dropout']:.2f} "
              f"takes {stats['episode_length']:5.1f} loss {stats['loss']:.3f} "
              f"({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)

    def checkpoint(iteration: int, net: Any, optimizer: Any) -> None:
        if iteration % args.checkpoint_every == 0 or iteration == cfg.iterations:
            args.checkpoint_dir.mkdir(parents=True, exist_ok=True)
            torch.save({"iteration": iteration, "config": cfg.to_dict(), "model": net.state_dict(),
                        "optimizer": optimizer.state_dict()}, ckpt_path)

    print(f"training PPO on '{cfg.family}' learners on {device} ({args.threads} threads)", file=sys.stderr)
    net = train(cfg, model=model, progress=progress, checkpoint=checkpoint, start_iteration=start,
                optimizer_state=opt_state, device=device)
    onnx_bytes = export_onnx(net)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(onnx_bytes)
    torch.save(net.cpu().state_dict(), args.out.with_suffix(".pt"))  # the product fine-tunes from these weights
    meta = {
        "command": "python -m inference.tutor.train " + " ".join(argv if argv is not None else sys.argv[1:]),
        "config": cfg.to_dict(),
        "torch": torch.__version__,
        "device": str(device),
        "seconds": round(time.monotonic() - started, 1),
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "check": quick_check(onnx_bytes, cfg.family, args.eval_learners, args.seed),
    }
    args.out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta["check"]), file=sys.stderr)
    print(f"wrote {args.out} ({len(onnx_bytes)} bytes) in {meta['seconds']} s", file=sys.stderr)
    return 0


def _load_checkpoint(path: Path, cfg: Any) -> tuple[int, Any, dict[str, Any]]:
    import torch

    from inference.tutor.ppo import ActorCritic

    state = torch.load(path, map_location="cpu", weights_only=True)
    if state["config"] != cfg.to_dict():
        raise SystemExit(f"{path} was made with a different configuration; drop --resume or the checkpoint")
    model = ActorCritic(hidden=cfg.hidden)
    model.load_state_dict(state["model"])
    return int(state["iteration"]), model, state["optimizer"]


def quick_check(onnx_bytes: bytes, family: str, n_learners: int, seed: int) -> dict[str, Any]:
    """Exercises to mastery of the new policy against the bandit on held-out learners of the training family."""
    from inference.tutor.evaluate import run_population
    from inference.tutor.policies import LearningProgressBandit, PPOPolicy

    out: dict[str, Any] = {"family": family, "learners": n_learners}
    for name, policy in (("ppo", PPOPolicy(onnx_bytes, seed=seed)), ("bandit", LearningProgressBandit(seed))):
        result = run_population(policy, family, n_learners=n_learners, seed=10_000 + seed)
        out[name] = {"exercises_to_mastery": round(float(result.exercises_to_mastery.mean()), 1),
                     "dropout": round(float(result.has_dropped_out.mean()), 3)}
    return out


if __name__ == "__main__":
    raise SystemExit(main())
