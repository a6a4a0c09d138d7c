"""Judging the agent as the original game did: tracking ratio, pieces tracked to the end, position error.

Each test track is played once, greedily, from its first onset. An onset counts as tracked when the
performance reaches it before the target is lost (|error| > theta); a piece is tracked to the end when the
target is never lost. Errors are also given in seconds of written-tempo music for readability.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from inference.following.rl.env import FollowingGame, Observation, Track
from inference.following.rl.score_roll import COLS_PER_SECOND

Policy = Callable[[Observation], np.ndarray]
"""Maps a batch of observations to (n, 3) action logits."""


@dataclass(frozen=True)
class PieceResult:
    name: str
    tracking_ratio: float
    is_tracked_to_end: bool
    mean_abs_error_s: float


def play(policy: Policy, tracks: Sequence[Track], batch: int = 32) -> list[PieceResult]:
    """Greedy episodes over every track (``batch`` at a time)."""
    results: list[PieceResult] = []
    for start in range(0, len(tracks), batch):
        chunk = list(tracks[start : start + batch])
        game = FollowingGame(chunk, len(chunk), np.random.default_rng(0), random_starts=False)
        for i, track in enumerate(chunk):
            game.start(i, track, onset_index=0)
        active = np.ones(len(chunk), dtype=bool)
        lost_frame = np.full(len(chunk), -1)
        errors: list[list[float]] = [[] for _ in chunk]
        while active.any():
            actions = np.argmax(policy(game.observe()), axis=1)
            _, done, error = game.step(actions, auto_reset=False)
            for i in map(int, np.flatnonzero(active)):
                errors[i].append(abs(float(error[i])))
                if done[i]:
                    active[i] = False
                    if game.frame[i] < chunk[i].last_frame:
                        lost_frame[i] = game.frame[i]
            game.frame[~active] = np.minimum(game.frame[~active], [t.last_frame for t in np.array(chunk)[~active]])
        for i, track in enumerate(chunk):
            onsets = track.onset_frames[1:]
            is_lost = lost_frame[i] >= 0
            reached = np.count_nonzero(onsets < lost_frame[i]) if is_lost else len(onsets)
            results.append(
                PieceResult(
                    name=track.performance.name,
                    tracking_ratio=reached / max(1, len(onsets)),
                    is_tracked_to_end=not is_lost,
                    mean_abs_error_s=float(np.mean(errors[i])) / COLS_PER_SECOND,
                )
            )
    return results


def summarise(results: Sequence[PieceResult]) -> dict[str, float]:
    return {
        "tracking_ratio": round(float(np.mean([r.tracking_ratio for r in results])), 4),
        "tracked_to_end": round(float(np.mean([r.is_tracked_to_end for r in results])), 4),
        "mean_abs_error_s": round(float(np.mean([r.mean_abs_error_s for r in results])), 4),
        "pieces": len(results),
    }


def torch_policy(model) -> Policy:  # type: ignore[no-untyped-def]
    import torch

    def act(obs: Observation) -> np.ndarray:
        with torch.no_grad():
            logits, _ = model(**{k: torch.from_numpy(v) for k, v in obs.inputs.items()})
        return logits.numpy()

    return act


def onnx_policy(session) -> Policy:  # type: ignore[no-untyped-def]
    def act(obs: Observation) -> np.ndarray:
        return session.run(["logits"], obs.inputs)[0]

    return act


def constant_speed_policy(obs: Observation) -> np.ndarray:
    """The baseline that never changes speed: reads on at the written tempo."""
    logits = np.zeros((obs.n, 3), dtype=np.float32)
    logits[:, 1] = 1.0
    return logits


def track_from_audio(  # type: ignore[no-untyped-def]
    name: str, notes, audio: np.ndarray, onset_times: np.ndarray, tempo_factor: float = 1.0
) -> Track:
    """A game track for any recording with known onset-group times (how the following benchmark uses it);
    ``tempo_factor`` is the tempo the followers are told, relative to the written one."""
    from inference.following.rl.features import spectrogram
    from inference.following.rl.performances import Performance

    performance = Performance(name, list(notes), spectrogram(audio), np.asarray(onset_times))
    return Track.from_performance(performance, tempo_factor=tempo_factor)


def game_metrics(tracks: Sequence[Track], model_path: str | None = None) -> dict[str, float]:
    """Tracking ratio and pieces tracked to the end of the shipped (or given) ONNX agent on ``tracks``."""
    from inference.following.rl.follower import model_path as default_model
    from inference.runtime import onnx_session

    results = play(onnx_policy(onnx_session(model_path or default_model())), tracks)
    return summarise(results)
