"""Score-following benchmark: ``python -m inference.bench.following --json [--quick] [--follower NAME ...]``.

Every follower hears each test performance in 20 ms chunks, strictly causally, and for each score onset (a
chord's onset is its earliest note) we take the audio time at which it first reported reaching it. Reported
per data set and follower: the share of onsets (the first excluded) within 50/100/300/1000 ms of the truth,
the median error, the share of pieces never off by more than 1 s (an onset never reached counts as off),
per-chunk CPU time p50/p95 (thread CPU time, so other load on the machine does not count) and the
real-time factor; for the ``rl`` follower also the score-following game's tracking ratio and share of pieces
tracked to the end (rl_game.py). The anchors (pymatchmaker's arzt, dixon and skf, named ``mm_*``) run on the
same audio in the same run: in a full run on a fixed subset, which all our followers also play, so that
``summary`` compares everyone on the same performances and ``summary_full`` gives ours on the whole set
(following_sets.py). Data sets: ``nottingham``, ``vienna``, ``k265`` and ``degraded`` (see performances.py
and degrade.py). Progress goes to stderr; the JSON result is the last line of stdout.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core per follower, as in the live path
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from inference.bench import following_sets  # noqa: E402
from inference.bench.anchors import ANCHORS, AnchorRun, anchor_python, collect_anchors, start_anchors  # noqa: E402
from inference.bench.following_sets import DATASETS, key_of  # noqa: E402
from inference.bench.performances import Performance  # noqa: E402
from inference.bench.rl_game import GAME_FOLLOWERS, game_summary, game_track  # noqa: E402
from inference.following import FOLLOWERS, make_follower  # noqa: E402
from inference.following.offline_run import run_follower  # noqa: E402

WINDOWS_S = (0.05, 0.1, 0.3, 1.0)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def errors_of(perf: Performance, reached: Sequence[float | None]) -> np.ndarray:
    """|reach - truth| per played onset group after the first played one; inf where never reached."""
    played = np.flatnonzero(np.isfinite(perf.truth))[1:]
    times = np.array([np.inf if reached[i] is None else reached[i] for i in played], dtype=float)
    return np.abs(times - perf.truth[played])


def run_ours(perf: Performance, name: str) -> dict[str, Any]:
    audio = perf.audio()
    follower = make_follower(name, perf.notes, tempo_factor=perf.tempo_factor)
    began = time.thread_time()
    run = run_follower(follower, audio, name=name, clock=time.thread_time)
    compute_s = time.thread_time() - began
    return {
        "errors": errors_of(perf, run.group_reached_s),
        "chunk_ms": run.chunk_ms,
        "compute_s": compute_s,
        "audio_s": run.audio_s,
        "lost_s": run.lost_s,
    }


def score(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Pooled figures of one follower over the pieces of one data set."""
    errors = np.concatenate([r["errors"] for r in results])
    chunks = np.concatenate([r["chunk_ms"] for r in results])
    figures = {f"w{int(w * 1000)}": round(float(np.mean(errors <= w)), 4) for w in WINDOWS_S}
    figures["never_lost"] = round(float(np.mean([np.all(r["errors"] <= 1.0) for r in results])), 4)
    figures["chunk_ms_p95"] = round(float(np.percentile(chunks, 95)), 4)
    details = {
        "median_error_ms": round(float(np.median(errors)) * 1000, 1),
        "chunk_ms_p50": round(float(np.percentile(chunks, 50)), 4),
        "rtf": round(sum(r["compute_s"] for r in results) / sum(r["audio_s"] for r in results), 5),
        "pieces": len(results),
        "onsets": int(errors.size),
    }
    if all("errors_own_timing" in r for r in results):  # anchors: also as pymatchmaker times its frames
        own = np.concatenate([r["errors_own_timing"] for r in results])
        details["own_frame_timing"] = {f"w{int(w * 1000)}": round(float(np.mean(own <= w)), 4) for w in WINDOWS_S}
    return {"summary": figures, "details": details}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the JSON result as the last stdout line")
    parser.add_argument("--quick", action="store_true", help="a small subset (under 5 minutes)")
    parser.add_argument("--follower", action="append", help="follower to run (repeatable); default: all + anchors")
    parser.add_argument("--dataset", action="append", choices=DATASETS, help="data set (repeatable); default all")
    parser.add_argument("--no-anchors", action="store_true", help="skip the pymatchmaker anchors")
    parser.add_argument("--anchors-on-all", action="store_true",
                        help="anchors play the whole set, not the fixed subset (hours on 2 cores)")
    args = parser.parse_args(argv)
    # "auto" is hmm or oltw by the score's texture, so by default it is not run a third time.
    names = args.follower or [*sorted(set(FOLLOWERS) - {"auto"}), *ANCHORS]
    unknown = [n for n in names if n not in FOLLOWERS and n not in ANCHORS]
    if unknown:
        parser.error(f"unknown follower(s) {unknown}; choose from {sorted(FOLLOWERS) + list(ANCHORS)}")
    ours = [n for n in names if n in FOLLOWERS]
    anchors = [] if args.no_anchors else [n for n in names if n in ANCHORS]
    began = time.perf_counter()
    log("building test performances (cached under var/bench-cache) ...")
    bench = following_sets.build(args.quick, args.dataset or DATASETS, args.anchors_on_all)
    perfs = bench.performances
    log(f"{len(perfs)} performances, {sum(len(p.audio()) for p in perfs) / 16000:.0f} s of audio")
    per_piece: dict[str, dict[str, Any]] = {}
    anchor_note, python = "anchors not requested", None
    if anchors:
        python, anchor_note = anchor_python()
        log(anchor_note)
    anchor_perfs = [p for p in perfs if key_of(p) in bench.anchor_keys]
    if python and bench.is_anchor_subset:
        seconds = sum(len(p.audio()) for p in anchor_perfs) / 16000
        anchor_note += f"; anchors on the fixed subset ({len(anchor_perfs)} performances, {seconds:.0f} s)"
    proc = start_anchors(python, anchor_perfs, anchors) if python else None
    for perf in perfs:
        per_piece[key_of(perf)] = {name: run_one(perf, name) for name in ours}
        log(f"  ours      {key_of(perf)}: " + ", ".join(_w100(n, per_piece[key_of(perf)][n]) for n in ours))
    if proc is not None:
        for (key, name), run in collect_anchors(proc, anchor_perfs).items():
            per_piece.setdefault(key, {})[name] = _anchor_result(run, key, perfs)
    subset = bench.anchor_keys if proc is not None and bench.is_anchor_subset else None
    return report(perfs, per_piece, ours + anchors, anchor_note, args, time.perf_counter() - began, subset)


def run_one(perf: Performance, name: str) -> dict[str, Any]:
    """One of our followers on one performance; a failure is reported in the result, the run goes on."""
    try:
        result = run_ours(perf, name)
    except Exception as exc:  # e.g. a registered follower whose model file is missing
        log(f"  {name} failed on {key_of(perf)}: {type(exc).__name__}: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}"}
    if name in GAME_FOLLOWERS:
        try:
            result["game_track"] = game_track(perf, perf.audio())
        except Exception as exc:  # the game's own metrics failing must not lose the shared ones
            log(f"  no game track for {key_of(perf)}: {type(exc).__name__}: {exc}")
    return result


def _w100(name: str, result: dict[str, Any]) -> str:
    if "error" in result:
        return f"{name} failed ({result['error']})"
    return f"{name} {np.mean(result['errors'] <= 0.1):.2f}"


def _anchor_result(run: AnchorRun | str, key: str, perfs: list[Performance]) -> dict[str, Any]:
    perf = next(p for p in perfs if f"{p.dataset}/{p.name}" == key)
    if isinstance(run, str):
        log(f"  anchor failed on {key}: {run}")
        return {"error": run}
    return {
        "errors": errors_of(perf, run.group_reached_s),
        "errors_own_timing": errors_of(perf, run.group_labelled_s),
        "chunk_ms": run.chunk_ms,
        "compute_s": run.compute_s,
        "audio_s": len(perf.audio()) / 16000,
    }


def add_game_metrics(scored: dict[str, Any], tracks: list[Any], label: str) -> None:
    """The score-following game's tracking ratio and pieces tracked to the end, beside the shared metrics."""
    try:
        game = game_summary(tracks)
    except Exception as exc:  # report it in the JSON, do not lose the shared metrics
        log(f"  game metrics failed on {label}: {type(exc).__name__}: {exc}")
        scored["details"]["game_error"] = f"{type(exc).__name__}: {exc}"
        return
    scored["summary"].update(tracking_ratio=game["tracking_ratio"], tracked_to_end=game["tracked_to_end"])
    scored["details"]["game"] = {"mean_abs_error_s": game["mean_abs_error_s"], "pieces": game["pieces"]}


def summarise(
    perfs: list[Performance], per_piece: dict[str, dict[str, Any]], names: list[str], keys: set[str] | None = None
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(summary, details) per data set and follower, pooled over the performances in ``keys`` (default all)."""
    summary: dict[str, dict[str, Any]] = {}
    details: dict[str, dict[str, Any]] = {}
    for dataset in dict.fromkeys(p.dataset for p in perfs):
        chosen = [key_of(p) for p in perfs if p.dataset == dataset and (keys is None or key_of(p) in keys)]
        for name in names:
            results = [per_piece[k][name] for k in chosen if name in per_piece.get(k, {})]
            failed = sum("errors" not in r for r in results)
            results = [r for r in results if "errors" in r]
            if not results:
                continue
            scored = score(results)
            if failed:
                scored["details"]["failed_pieces"] = failed
            tracks = [r["game_track"] for r in results if r.get("game_track") is not None]
            if tracks:
                add_game_metrics(scored, tracks, f"{dataset}/{name}")
            summary.setdefault(dataset, {})[name] = scored["summary"]
            details.setdefault(dataset, {})[name] = scored["details"]
    return summary, details


def report(
    perfs: list[Performance],
    per_piece: dict[str, dict[str, Any]],
    names: list[str],
    anchor_note: str,
    args: argparse.Namespace,
    wall_s: float,
    anchor_subset: set[str] | None = None,
) -> dict[str, Any]:
    """The JSON result. ``summary`` always compares every follower on the same performances: with the anchors
    on a subset, that subset, and ``summary_full``/``details_full`` give our followers on the whole set."""
    summary, details = summarise(perfs, per_piece, names, anchor_subset)
    result: dict[str, Any] = {"summary": summary, "details": details}
    if anchor_subset is not None:
        ours = [n for n in names if n in FOLLOWERS]
        result["summary_full"], result["details_full"] = summarise(perfs, per_piece, ours)
    pieces: list[dict[str, Any]] = []
    for perf in perfs:
        key = key_of(perf)
        row: dict[str, Any] = {"piece": key, "variant": perf.variant, "tempo_factor": round(perf.tempo_factor, 3)}
        if anchor_subset is not None:
            row["anchor_subset"] = key in anchor_subset
        for name, run in per_piece.get(key, {}).items():
            row[name] = {"error": run["error"]} if "error" in run else {
                "w100": round(float(np.mean(run["errors"] <= 0.1)), 3),
                "max_error_s": round(float(np.max(run["errors"])), 3) if run["errors"].size else None,
            }
        pieces.append(row)
    result.update(
        pieces=pieces,
        anchors=anchor_note,
        quick=bool(args.quick),
        machine={"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count()},
        wall_s=round(wall_s, 1),
    )
    if args.json:
        print(json.dumps(result))
    else:
        for label in ("summary", "summary_full"):
            for dataset, rows in result.get(label, {}).items():
                for name, figures in rows.items():
                    print(f"{label:12s} {dataset:11s} {name:9s} " + " ".join(f"{k}={v}" for k, v in figures.items()))
    return result


if __name__ == "__main__":
    main()
