"""Benchmark of the live path's compute: ``python -m inference.bench.session --json``.

Renders music21 corpus melodies with Etude's synthesizer at several tempo factors (the follower is always
told 1.0, so it must find the tempo), streams them through ``TakeSession`` in 20 ms chunks exactly as the
socket does, and reports per-chunk compute time, real-time factor, how many takes one core holds in real
time, and the share of onsets the cursor reached within 100 / 300 ms of the truth. The listening-engine
benchmark (``inference.bench.following``) is the thorough accuracy test; this one guards the live path.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from inference.following import group_onsets
from inference.session import TakeSession
from inference.synth import render_notes
from inference.types import HOP_SAMPLES, HOP_SECONDS, ScoreNote

PIECES = (
    ("essenFolksong/kinder0", 1, None),
    ("airdsAirs/book1.abc", 3, None),
    ("oneills1850/0731-0731.abc", None, None),
    ("bach/bwv66.6", None, 0),
)
TEMPO_FACTORS = (0.8, 1.0, 1.25)
TIMBRES = ("flute", "string")


def load_corpus_notes(path: str, number: int | None, part: int | None) -> list[ScoreNote]:
    from music21 import corpus

    from inference.scores import normalise

    score = corpus.parse(path, number=number) if number else corpus.parse(path)
    if part is not None:
        score = score.parts[part]
    return normalise(score, fmt="corpus", fallback_title=path).notes


def run_take(notes: Sequence[ScoreNote], tempo_factor: float, timbre: str, seed: int) -> dict[str, Any]:
    audio, onsets = render_notes(notes, tempo_factor=tempo_factor, timbre=timbre, seed=seed)  # type: ignore[arg-type]
    session = TakeSession(notes, from_measure=min(n.measure for n in notes))  # a pickup bar is played too
    groups = group_onsets(notes)
    note_group = {note_id: g.index for g in groups for note_id in g.note_ids}
    true_s = [float("inf")] * len(groups)
    for note, onset in zip(notes, onsets, strict=True):
        index = note_group[note.note_id]
        true_s[index] = min(true_s[index], onset)
    reached_s = [float("nan")] * len(groups)
    chunk_ms: list[float] = []
    for start in range(0, len(audio) - HOP_SAMPLES + 1, HOP_SAMPLES):
        began = time.perf_counter()
        session.feed(audio[start : start + HOP_SAMPLES])
        chunk_ms.append((time.perf_counter() - began) * 1000)
        position = session.position
        if position is not None and position.note_index >= 0:
            for index in range(position.note_index + 1):
                if np.isnan(reached_s[index]):
                    reached_s[index] = (start + HOP_SAMPLES) / 16_000
    session.finish()
    errors = [abs(r - t) for r, t in zip(reached_s[1:], true_s[1:], strict=True)]  # first onset excluded
    errors = [e if not np.isnan(e) else float("inf") for e in errors]
    return {"chunk_ms": chunk_ms, "errors": errors, "audio_s": len(audio) / 16_000}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    parser.add_argument("--quick", action="store_true", help="one timbre, two pieces")
    args = parser.parse_args(argv)
    pieces = PIECES[:2] if args.quick else PIECES
    timbres = TIMBRES[:1] if args.quick else TIMBRES
    chunk_ms: list[float] = []
    errors: list[float] = []
    audio_s = 0.0
    per_piece = {}
    for seed, (path, number, part) in enumerate(pieces):
        notes = load_corpus_notes(path, number, part)
        piece_errors: list[float] = []
        for tempo in TEMPO_FACTORS:
            for timbre in timbres:
                result = run_take(notes, tempo, timbre, seed)
                chunk_ms += result["chunk_ms"]
                piece_errors += result["errors"]
                audio_s += result["audio_s"]
        errors += piece_errors
        per_piece[path] = round(float(np.mean(np.array(piece_errors) <= 0.1)), 3)
    err = np.array(errors)
    chunks = np.array(chunk_ms)
    compute_s = chunks.sum() / 1000
    summary = {
        "w100": round(float(np.mean(err <= 0.1)), 3),
        "w300": round(float(np.mean(err <= 0.3)), 3),
        "chunk_ms_p50": round(float(np.percentile(chunks, 50)), 3),
        "chunk_ms_p95": round(float(np.percentile(chunks, 95)), 3),
        "real_time_factor": round(compute_s / audio_s, 4),
        "takes_per_core": int(HOP_SECONDS * 1000 / max(float(np.percentile(chunks, 95)), 1e-6)),
    }
    result = {
        "benchmark": "session",
        "machine": f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}".strip(),
        "onsets": int(err.size),
        "audio_s": round(audio_s, 1),
        "w100_by_piece": per_piece,
        "summary": summary,
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
