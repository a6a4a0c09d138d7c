"""Held-out tuning data for the followers: ``python -m inference.bench.following_tuning [--tunes 36]``.

Nottingham tunes that the benchmark's draw never picks (another seed, the benchmark's candidates removed),
warped and rendered exactly like the benchmark's melodies, plus Vienna 4x22 pianist 11, whom the benchmark
leaves out. Followers are tuned on these, never on the reported sets. Prints, per follower, the pooled shares
within 50/100/300/1000 ms, and the share within 100 ms of repeated notes (the hardest case for melodies).
Cached under ``var/bench-cache/following/v*/tuning-nottingham``. The Nottingham RL test split may include these
tunes; they are only used here for the ``hmm`` and ``oltw`` followers.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import numpy as np

from inference.bench import performances as perf_sets
from inference.bench.following import run_ours
from inference.bench.performances import Performance
from inference.following.onsets import group_onsets, shares_pitch
from inference.synth import notes_to_midi

TUNING_SEED = 77
HELD_OUT_PIANIST = 11


def nottingham_tuning(count: int) -> list[Performance]:
    """``count`` warped, rendered melodies that are not among the benchmark's candidates."""
    excluded = {name for name, _ in perf_sets.nottingham_tunes(24)}
    folder = perf_sets.cache_dir("tuning-nottingham")
    found: list[Performance] = []
    candidates = [t for t in perf_sets.nottingham_tunes(40 * count, seed=TUNING_SEED) if t[0] not in excluded]
    for index, (name, text) in enumerate(candidates):
        if len(found) == count:
            break
        saved = perf_sets._load_saved(folder, name)
        if saved is None:
            try:
                notes, musicxml, bpm = perf_sets.parse_abc_tune(text)
            except Exception:  # some tunes of the collection do not parse
                continue
            perf_sets._save_score(folder, name, musicxml, notes, bpm)
        else:
            notes, bpm = saved
        if not 16 <= len(notes) <= 400:
            continue
        played, factor = perf_sets.performed_notes(notes, np.random.default_rng(5000 + index))
        program = perf_sets.MELODY_PROGRAMS[len(found) % len(perf_sets.MELODY_PROGRAMS)]
        notes_to_midi(played, folder / f"{name}.mid", program=program)
        perf_sets.render_midi(folder / f"{name}.mid", folder / f"{name}.wav")
        first = {g.index: min(p.onset_s for p in played if p.note_id in g.note_ids) for g in group_onsets(notes)}
        truth = np.array([first[i] for i in range(len(first))])
        found.append(Performance("tuning", name, notes, folder / f"{name}.musicxml", folder / f"{name}.wav", truth,
                                 1.0, bpm, variant=f"x{factor:.2f} program {program}"))
    return found


def repeated(perf: Performance) -> np.ndarray:
    """Per scored onset (as ``errors_of`` orders them): whether it repeats a pitch of the group before."""
    groups = group_onsets(perf.notes)
    played = np.flatnonzero(np.isfinite(perf.truth))[1:]
    return np.array([shares_pitch(groups[i], groups[i - 1]) for i in played], dtype=bool)


def evaluate(perfs: Sequence[Performance], name: str) -> dict[str, float]:
    errors, repeats = [], []
    for perf in perfs:
        errors.append(run_ours(perf, name)["errors"])
        repeats.append(repeated(perf))
    pooled, is_repeat = np.concatenate(errors), np.concatenate(repeats)
    figures = {f"w{int(w * 1000)}": round(float(np.mean(pooled <= w)), 4) for w in (0.05, 0.1, 0.3, 1.0)}
    figures["never_lost"] = round(float(np.mean([np.all(e <= 1.0) for e in errors])), 4)
    figures["repeats_w100"] = round(float(np.mean(pooled[is_repeat] <= 0.1)), 4) if is_repeat.any() else float("nan")
    return figures


def main(argv: Sequence[str] | None = None) -> dict[str, dict[str, dict[str, float]]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tunes", type=int, default=36)
    parser.add_argument("--follower", action="append", help="default: hmm and oltw")
    args = parser.parse_args(argv)
    names = args.follower or ["hmm", "oltw"]
    sets = {"nottingham_tuning": nottingham_tuning(args.tunes), "vienna_p11": perf_sets.vienna([HELD_OUT_PIANIST])}
    result = {label: {name: evaluate(perfs, name) for name in names} for label, perfs in sets.items()}
    print(json.dumps(result))
    print(json.dumps(result, indent=1), file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
