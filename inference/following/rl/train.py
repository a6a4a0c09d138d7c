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

from inference.following.rl.datasets import MAX_NOTES, build_tracks, chorale_paths, nottingham_files, piano_paths
from inference.following.rl.env import Track
from inference.following.rl.evaluation import play, summarise, torch_policy
from inference.following.rl.model import Policy, export_onnx
from inference.following.rl.performances import RUBATO
from inference.following.rl.training import TrainConfig, TrainLog, load_checkpoint, save_checkpoint, train

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
    parser.add_argument("--pieces", type=int, default=0,
                        help="other music21 corpus pieces (quartets, rags, piano music) rendered on piano")
    parser.add_argument("--max-notes", type=int, default=MAX_NOTES, help="notes kept from the start of each piece")
    parser.add_argument("--rubato", choices=RUBATO, default="mild", help="tempo curves of the performances")
    parser.add_argument("--init", type=Path, default=None,
                        help="checkpoint (.pt) or exported agent (.onnx) to start from (fine-tuning)")
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
    tracks, validation, train_files, validation_files = _data(args)
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

    def _log(stats: dict) -> TrainLog:
        return TrainLog(config=vars(config) if hasattr(config, "__dict__") else {}, updates=[stats])

    started = time.monotonic()
    initial = load_checkpoint(args.init) if args.init else None
    if initial is not None:  # the starting point is a candidate too: fine-tuning must beat it
        on_update(initial, {"update": 0, "steps": 0})
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
        "pieces": args.pieces,
        "max_notes": args.max_notes,
        "rubato": args.rubato,
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


def _data(args: argparse.Namespace) -> tuple[list[Track], list[Track], list[Path], list[Path]]:
    """Training and validation tracks: Nottingham tunes, then chorales and other pieces on piano if asked."""
    files = nottingham_files("train")
    validation_files = files[:: max(1, len(files) // args.validation_tunes)][: args.validation_tunes]
    train_files = [f for f in files if f not in validation_files][: args.tunes]
    common = {"cache_dir": args.cache, "view": args.view, "max_notes": args.max_notes, "rubato": args.rubato}
    print(f"rendering {len(train_files)} x {args.performances} training performances ...", file=sys.stderr)
    tracks = build_tracks(train_files, performances_each=args.performances, split="train", seed=args.seed, **common)
    validation = build_tracks(validation_files, performances_each=1, split="test", seed=args.seed + 1000, **common)
    extra = []
    if args.chorales:
        extra.append(("piano chorales", [Path(p) for p in chorale_paths(args.chorales + args.chorales // 8)], 9))
    if args.pieces:
        pieces = piano_paths()
        extra.append(("corpus pieces on piano", [Path(p) for p in pieces[:: max(1, len(pieces) // args.pieces)]], 5))
    for what, paths, held_out_every in extra:
        held_out = paths[::held_out_every]
        print(f"rendering {len(paths) - len(held_out)} {what} ...", file=sys.stderr)
        tracks += build_tracks([c for c in paths if c not in held_out], performances_each=args.performances,
                               split="train", seed=args.seed, programs=PIANOS, **common)
        validation += build_tracks(held_out, performances_each=1, split="test", seed=args.seed + 1000,
                                   programs=PIANOS, **common)
    return tracks, validation, train_files, validation_files


if __name__ == "__main__":
    raise SystemExit(main())
