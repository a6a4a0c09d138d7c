"""Train the score-following agent: ``python -m inference.following.rl.train --algo ppo --steps 600000``.

Renders (and caches) warped Nottingham performances of the training tunes with one soundfont, validates
greedily on held-back training tunes rendered with another, keeps the best checkpoint by validation
tracking ratio, and exports it to ONNX with a JSON model card (the command, the data, the curve) beside it.
Runs on CUDA when present (``inference.runtime.torch_device``), else on the CPU.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import torch

from inference.following.rl.datasets import build_tracks, chorale_paths, nottingham_files
from inference.following.rl.evaluation import play, summarise, torch_policy
from inference.following.rl.model import Policy, export_onnx
from inference.following.rl.training import TrainConfig, load_checkpoint, save_checkpoint, train

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "rl_follower.onnx"
PIANOS = (0, 1, 2)
"""GM acoustic grand, bright and electric grand: the chorales are played as piano music."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", choices=("ppo", "a2c"), default="ppo")
    parser.add_argument("--view", choices=("roll", "image"), default="roll", help="symbolic or engraved score")
    parser.add_argument("--steps", type=int, default=600_000)
    parser.add_argument("--tunes", type=int, default=240, help="training tunes (of the train split)")
    parser.add_argument("--validation-tunes", type=int, default=24)
    parser.add_argument("--performances", type=int, default=2, help="warped performances per tune")
    parser.add_argument("--chorales", type=int, default=0, help="Bach chorales (music21 corpus) rendered on piano")
    parser.add_argument("--init", type=Path, default=None, help="checkpoint to start from (fine-tuning)")
    parser.add_argument("--n-envs", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--validate-every", type=int, default=25, help="updates between validations")
    parser.add_argument("--cache", type=Path, default=Path("var/rl-cache"))
    parser.add_argument("--checkpoint", type=Path, default=Path("var/rl/checkpoint.pt"))
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL, help="ONNX file to write")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from inference.runtime import torch_device

    device = torch_device()
    files = nottingham_files("train")
    validation_files = files[:: max(1, len(files) // args.validation_tunes)][: args.validation_tunes]
    train_files = [f for f in files if f not in validation_files][: args.tunes]
    print(f"rendering {len(train_files)} x {args.performances} training performances ...", file=sys.stderr)
    tracks = build_tracks(train_files, performances_each=args.performances, split="train", seed=args.seed,
                          cache_dir=args.cache, view=args.view)
    validation = build_tracks(validation_files, performances_each=1, split="test", seed=args.seed + 1000,
                              cache_dir=args.cache, view=args.view)
    if args.chorales:
        chorales = [Path(p) for p in chorale_paths(args.chorales + args.chorales // 8)]
        held_out = chorales[:: 9]
        print(f"rendering {len(chorales) - len(held_out)} piano chorales ...", file=sys.stderr)
        tracks += build_tracks([c for c in chorales if c not in held_out], performances_each=args.performances,
                               split="train", seed=args.seed, cache_dir=args.cache, programs=PIANOS, view=args.view)
        validation += build_tracks(held_out, performances_each=1, split="test", seed=args.seed + 1000,
                                   cache_dir=args.cache, programs=PIANOS, view=args.view)
    config = TrainConfig(algo=args.algo, steps=args.steps, n_envs=args.n_envs, lr=args.lr, seed=args.seed)
    best = {"tracking_ratio": -1.0}
    curve: list[dict] = []

    def on_update(model: Policy, stats: dict) -> None:
        if stats["update"] % args.validate_every:
            return
        model.eval()
        cpu_model = model.to("cpu")
        scores = summarise(play(torch_policy(cpu_model), validation))
        cpu_model.to(device).train()
        curve.append({"steps": stats["steps"], **scores})
        print(f"  validation at {stats['steps']} steps: {scores}", file=sys.stderr, flush=True)
        if scores["tracking_ratio"] > best["tracking_ratio"]:
            best.update(scores)
            save_checkpoint(model.to("cpu"), _log(stats), args.checkpoint)
            model.to(device)

    def _log(stats: dict):  # type: ignore[no-untyped-def]
        from inference.following.rl.training import TrainLog

        return TrainLog(config=vars(config) if hasattr(config, "__dict__") else {}, updates=[stats])

    started = time.monotonic()
    initial = load_checkpoint(args.init) if args.init else None
    model, log = train(tracks, config, device=device, model=initial, on_update=on_update)
    if best["tracking_ratio"] < 0:
        save_checkpoint(model.to("cpu"), log, args.checkpoint)
    export_onnx(load_checkpoint(args.checkpoint), args.out)
    card = {
        "command": "python -m inference.following.rl.train " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "algo": args.algo,
        "view": args.view,
        "steps": args.steps,
        "train_tunes": len(train_files),
        "chorales": args.chorales,
        "init": str(args.init) if args.init else None,
        "performances_each": args.performances,
        "validation_tunes": len(validation_files),
        "best_validation": best,
        "validation_curve": curve,
        "train_seconds": round(time.monotonic() - started, 1),
        "device": str(device),
    }
    args.out.with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n")
    print(json.dumps({"model": str(args.out), "best_validation": best}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
