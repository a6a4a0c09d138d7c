"""Train the ``hmm`` follower's re-attack detector (``inference/following/reattack.py``) and export it to ONNX.

    apt-get install timgm6mb-soundfont musescore-general-soundfont-small   # the training soundfonts
    .venv/bin/python scripts/train_reattack.py [--tunes 120] [--epochs 30]

Data: Nottingham tunes that neither the benchmark's draw nor the held-out tuning set can pick, warped like the
benchmark's melodies, with a third of the notes split into two repeats of the same pitch (more re-attacks to
learn from), played on bowed, blown and struck GM programs and rendered with TimGM6mb and MuseScore General
Lite, never with the benchmark's FluidR3_GM. Each hop of a sustained note is read at that note's pitch; the
hops in which a repeat of it begins (up to 60 ms after its onset) are the positives, the note's other hops (its
sustain, vibrato, swell and release) the negatives. Renders are cached in ``var/reattack-train``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inference.audio import load_audio  # noqa: E402
from inference.bench import performances as perf_sets  # noqa: E402
from inference.bench.following_sets import NOTTINGHAM_TUNES  # noqa: E402
from inference.bench.following_tuning import TUNING_SEED  # noqa: E402
from inference.following.reattack import CONTEXT_HOPS, FEATURES_PER_HOP, MODEL_PATH, ReattackFeatures  # noqa: E402
from inference.pitch.yin import YinTracker  # noqa: E402
from inference.synth import notes_to_midi, render_with_fluidsynth  # noqa: E402
from inference.types import HOP_SAMPLES, SAMPLE_RATE, ScoreNote  # noqa: E402

SOUNDFONTS = (Path("/usr/share/sounds/sf2/TimGM6mb.sf2"), Path("/usr/share/sounds/sf3/MuseScore_General_Lite.sf3"))
PROGRAMS = (73, 40, 71, 68, 0, 41, 42, 74, 69, 70, 65, 56)
"""Flute, violin, clarinet, oboe, piano, viola, cello, recorder, English horn, bassoon, alto sax, trumpet."""
TUNING_CANDIDATES_SKIPPED = 500
"""The held-out tuning set draws its tunes from the start of the same order (its 100 are the first 100)."""
POSITIVE_S = 0.06
SETTLE_S = 0.08
CACHE = ROOT / "var" / "reattack-train"


def training_tunes(count: int) -> list[tuple[str, str]]:
    """Tunes that neither ``performances.nottingham`` (the benchmark) nor ``following_tuning`` can draw."""
    benchmark = {name for name, _ in perf_sets.nottingham_tunes(NOTTINGHAM_TUNES)}
    order = [t for t in perf_sets.nottingham_tunes(4000, seed=TUNING_SEED) if t[0] not in benchmark]
    return order[TUNING_CANDIDATES_SKIPPED : TUNING_CANDIDATES_SKIPPED + count]


def split_repeats(played: list[ScoreNote], rng: np.random.Generator) -> list[ScoreNote]:
    """Split about a third of the notes into two re-attacked halves of the same pitch."""
    out: list[ScoreNote] = []
    for note in played:
        if note.duration_s > 0.25 and rng.random() < 0.35:
            half = note.duration_s / 2.0
            gap = half * rng.uniform(0.02, 0.15)
            out.append(replace(note, duration_s=half - gap))
            out.append(replace(note, note_id=note.note_id + "r", onset_s=note.onset_s + half, duration_s=half))
        else:
            out.append(note)
    return out


def render(name: str, text: str, index: int, soundfont: Path) -> tuple[np.ndarray, list[ScoreNote]] | None:
    """Audio (16 kHz) and the played notes of one warped tune, cached."""
    rng = np.random.default_rng(9000 + index)
    try:
        notes, _, _ = perf_sets.parse_abc_tune(text)
    except Exception:  # some tunes of the collection do not parse
        return None
    if not 16 <= len(notes) <= 400:
        return None
    played, _ = perf_sets.performed_notes(notes, rng)
    played = split_repeats(sorted(played, key=lambda n: n.onset_s), rng)
    shift = int(rng.integers(-5, 6))
    played = [replace(n, midi=n.midi + shift) for n in played]
    program = PROGRAMS[index % len(PROGRAMS)]
    stem = CACHE / f"{name}-{soundfont.stem}"
    wav = stem.with_suffix(".wav")
    if not wav.is_file():
        notes_to_midi(played, stem.with_suffix(".mid"), program=program, velocity=int(rng.integers(60, 110)))
        if not render_with_fluidsynth(stem.with_suffix(".mid"), wav, soundfont):
            raise RuntimeError("fluidsynth is not installed")
    audio = load_audio(wav)
    return audio * (0.9 / max(float(np.abs(audio).max()), 1e-6)) * rng.uniform(0.1, 1.0), played


def with_tremolo(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A slow level wobble (3-7 Hz, 1-4 dB), as a flute's or a bow's: sustain that must not read as a repeat."""
    t = np.arange(len(audio)) / SAMPLE_RATE
    depth_db = rng.uniform(1.0, 4.0)
    wobble = depth_db / 2.0 * np.sin(2 * np.pi * rng.uniform(3.0, 7.0) * t + rng.uniform(0, 2 * np.pi))
    return (audio * 10.0 ** (wobble / 20.0)).astype(np.float32)


def examples(audio: np.ndarray, played: list[ScoreNote]) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, labels) for every hop of every note that is followed by another note, read at its pitch."""
    tracker, features = YinTracker(), ReattackFeatures()
    n_hops = len(audio) // HOP_SAMPLES
    ends = (np.arange(n_hops) + 1) * HOP_SAMPLES / SAMPLE_RATE
    wanted: dict[int, list[tuple[float, float]]] = {}
    for a, b in zip(played[:-1], played[1:], strict=True):
        is_repeat = a.midi == b.midi
        last = b.onset_s + (POSITIVE_S if is_repeat else 0.0)
        for hop in np.flatnonzero((ends > a.onset_s + SETTLE_S) & (ends <= last)):
            label = float(is_repeat and ends[hop] > b.onset_s)
            wanted.setdefault(int(hop), []).append((float(a.midi), label))
    xs, ys = [], []
    for hop in range(n_hops):
        features.push(tracker(audio[hop * HOP_SAMPLES : (hop + 1) * HOP_SAMPLES]))
        if hop in wanted and features.is_full:
            for midi, label in wanted[hop]:
                xs.append(features.features(midi))
                ys.append(label)
    return np.array(xs, np.float32).reshape(-1, CONTEXT_HOPS * FEATURES_PER_HOP), np.array(ys, np.float32)


def dataset(count: int, tremolo: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    CACHE.mkdir(parents=True, exist_ok=True)
    xs, ys, piece = [], [], []
    for index, (name, text) in enumerate(training_tunes(count)):
        for soundfont in SOUNDFONTS:
            found = render(name, text, index, soundfont)
            if found is None:
                break
            audio, played = found
            versions = [audio, with_tremolo(audio, np.random.default_rng(index))] if tremolo else [audio]
            for version in versions:
                x, y = examples(version, played)
                xs.append(x)
                ys.append(y)
                piece.append(np.full(len(y), index))
        print(f"{index + 1}/{count} {name}: {sum(len(y) for y in ys)} examples", file=sys.stderr, flush=True)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(piece)


def train(x: np.ndarray, y: np.ndarray, piece: np.ndarray, epochs: int, hidden: int) -> object:
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(1)
    is_val = piece % 10 == 0
    model = torch.nn.Sequential(
        torch.nn.Linear(x.shape[1], hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, 16),
        torch.nn.ReLU(),
        torch.nn.Linear(16, 1),
    )
    xt, yt = torch.from_numpy(x[~is_val]), torch.from_numpy(y[~is_val])
    xv, yv = torch.from_numpy(x[is_val]), y[is_val]
    positive_weight = torch.tensor(float((yt == 0).sum() / max(1, (yt == 1).sum())) ** 0.5)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=positive_weight)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3, weight_decay=1e-5)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(yt))
        for start in range(0, len(order), 512):
            batch = order[start : start + 512]
            optimiser.zero_grad()
            loss = loss_fn(model(xt[batch]).squeeze(1), yt[batch])
            loss.backward()
            optimiser.step()
        model.eval()
        with torch.no_grad():
            p = torch.sigmoid(model(xv).squeeze(1)).numpy()
        hits = p[yv == 1] > 0.5
        false = p[yv == 0] > 0.5
        print(f"epoch {epoch + 1}: val recall {hits.mean():.3f}, false alarms {false.mean():.4f}", file=sys.stderr)
    return model


def export(model: object, n_inputs: int, path: Path) -> None:
    import torch

    class WithSigmoid(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.sigmoid(self.inner(x))

    wrapped = WithSigmoid(model).eval()  # type: ignore[arg-type]
    torch.onnx.export(
        wrapped,
        torch.zeros(1, n_inputs),
        str(path),
        input_names=["features"],
        output_names=["reattack"],
        dynamic_axes={"features": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    print(f"wrote {path} ({path.stat().st_size} bytes)", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tunes", type=int, default=120)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument(
        "--tremolo",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also learn from a copy of each render with a slow level wobble",
    )
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    data = CACHE / f"examples-{args.tunes}{'-tremolo' if args.tremolo else ''}.npz"
    if data.is_file():
        saved = np.load(data)
        x, y, piece = saved["x"], saved["y"], saved["piece"]
    else:
        missing = [str(sf) for sf in SOUNDFONTS if not sf.is_file()]
        if missing:
            raise SystemExit(
                f"needs the training soundfonts {', '.join(missing)}: "
                "apt-get install timgm6mb-soundfont musescore-general-soundfont-small"
            )
        x, y, piece = dataset(args.tunes, args.tremolo)
        np.savez_compressed(data, x=x, y=y, piece=piece)
    print(f"{len(y)} examples, {int(y.sum())} positive", file=sys.stderr)
    export(train(x, y, piece, args.epochs, args.hidden), x.shape[1], args.out)


if __name__ == "__main__":
    main()
