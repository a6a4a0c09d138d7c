"""The score-following game's own metrics for the ``rl`` follower, on the following benchmark's audio.

Besides the shared reach-time metrics, the benchmark reports for ``rl`` the original game's figures (Dorfer et
al. 2018): the tracking ratio (share of onsets reached before the target is lost) and the share of pieces
tracked to the end, computed by ``inference.following.rl.evaluation`` on exactly the audio the other followers
hear. The game needs a time for every onset group, in order: groups before the first and after the last played
one are left out (excerpts, unplayed ends), unplayed groups between are interpolated along the written score
time. The agent, like every follower, is told the performance's tempo (``Performance.tempo_factor``). The
``degraded`` set is not scored this way: restarts and skipped bars have no single monotonic truth.

``python -m inference.bench.rl_game [--model M.onnx] [--dataset D ...]`` gives these game metrics alone (the
same performances as a full benchmark run, in a few minutes), e.g. to compare two agents.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from inference.bench.performances import Performance
from inference.following.onsets import group_onsets

GAME_FOLLOWERS = frozenset({"rl"})
GAME_DATASETS = frozenset({"nottingham", "vienna", "k265"})


def game_onsets(perf: Performance) -> tuple[list[Any], np.ndarray] | None:
    """(notes of the groups from the first to the last played one, a performed time per such group)."""
    played = np.flatnonzero(np.isfinite(perf.truth))
    if len(played) < 2:
        return None
    groups = group_onsets(perf.notes)[played[0] : played[-1] + 1]
    written = np.array([g.onset_s for g in groups])
    truth = perf.truth[played[0] : played[-1] + 1]
    known = np.isfinite(truth)
    times = np.maximum.accumulate(np.interp(written, written[known], truth[known]))
    kept = {note_id for g in groups for note_id in g.note_ids}
    return [n for n in perf.notes if n.note_id in kept], times


def game_track(perf: Performance, audio: np.ndarray) -> Any | None:
    """The game track of one benchmark performance, or None where the game cannot score it."""
    from inference.following.rl.evaluation import track_from_audio

    if perf.dataset not in GAME_DATASETS:
        return None
    found = game_onsets(perf)
    if found is None:
        return None
    notes, times = found
    return track_from_audio(perf.name, notes, audio, times, tempo_factor=perf.tempo_factor)


def game_summary(tracks: Sequence[Any]) -> dict[str, Any]:
    """``tracking_ratio``, ``tracked_to_end`` (and the mean position error, pieces) of the shipped agent."""
    from inference.following.rl.evaluation import game_metrics

    return game_metrics(list(tracks))


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    from inference.bench import following_sets
    from inference.following.rl.evaluation import game_metrics

    parser = argparse.ArgumentParser(description="The score-following game's metrics on the following benchmark.")
    parser.add_argument("--model", default=None, help="ONNX agent (default: the shipped one)")
    parser.add_argument("--dataset", action="append", choices=sorted(GAME_DATASETS), help="repeatable")
    args = parser.parse_args(argv)
    datasets = args.dataset or sorted(GAME_DATASETS)
    bench = following_sets.build(False, datasets)
    summary: dict[str, Any] = {}
    for dataset in datasets:
        tracks = [game_track(p, p.audio()) for p in bench.performances if p.dataset == dataset]
        summary[dataset] = game_metrics([t for t in tracks if t is not None], args.model)
    result = {"model": args.model or "shipped", "summary": summary}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
