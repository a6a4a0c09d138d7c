"""Run an online follower over a recording, exactly as live: 20 ms chunks, one ``update`` each, no look-ahead.

Used by ``manage.py follow`` (the contract in DESIGN.md), the following benchmark and the tests. The follower
is built with ``make_follower`` like the live take session builds it, so what is measured here is what runs.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inference.following import Follower, make_follower
from inference.types import HOP_SAMPLES, SAMPLE_RATE, Position, ScoreNote

MAX_AUDIO_SECONDS = 30 * 60.0
"""Longest recording ``follow_file`` accepts (a long concert movement)."""


class AudioFileError(ValueError):
    """An audio file that cannot be followed; the message says why."""


@dataclass
class FollowRun:
    """What a follower reported over one recording."""

    follower: str
    notes: list[ScoreNote]
    group_reached_s: list[float | None]
    """Per onset group: audio time (end of the chunk) at which the follower first reported reaching it."""
    note_group: dict[str, int]
    chunk_ms: np.ndarray
    audio_s: float
    lost_s: float = 0.0
    """Seconds of audio during which the follower said it was lost."""
    positions: list[Position] = field(default_factory=list)

    def detected_s(self, note_id: str) -> float | None:
        return self.group_reached_s[self.note_group[note_id]]

    def to_contract(self) -> dict[str, Any]:
        """The JSON of ``manage.py follow --json`` (DESIGN.md, "Contracts that outside checks call")."""
        notes = [
            {
                "note_id": note.note_id,
                "score_onset_q": round(float(note.onset_q), 6),
                "score_onset_s": round(float(note.onset_s), 6),
                "detected_s": _rounded(self.detected_s(note.note_id)),
            }
            for note in self.notes
        ]
        return {
            "follower": self.follower,
            "notes": notes,
            "per_chunk_ms": {
                "p50": round(float(np.percentile(self.chunk_ms, 50)), 4) if self.chunk_ms.size else None,
                "p95": round(float(np.percentile(self.chunk_ms, 95)), 4) if self.chunk_ms.size else None,
            },
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def run_follower(
    follower: Follower,
    audio: np.ndarray,
    *,
    name: str = "",
    notes: Sequence[ScoreNote] = (),
    keep_positions: bool = False,
    clock: Callable[[], float] = time.perf_counter,
) -> FollowRun:
    """Feed ``audio`` (16 kHz mono) to ``follower`` hop by hop and record first-reach times and costs.

    ``clock`` times each chunk: wall time by default; the benchmark passes ``time.thread_time`` (CPU time of
    this thread) so that other processes on a shared machine do not inflate the figures.
    """
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    n_hops = int(np.ceil(len(audio) / HOP_SAMPLES))
    padded = np.zeros(n_hops * HOP_SAMPLES, dtype=np.float32)
    padded[: len(audio)] = audio
    groups = follower.groups
    reached: list[float | None] = [None] * len(groups)
    highest = -1
    chunk_ms = np.zeros(n_hops)
    lost_hops = 0
    positions: list[Position] = []
    for i in range(n_hops):
        hop = padded[i * HOP_SAMPLES : (i + 1) * HOP_SAMPLES]
        began = clock()
        position = follower.update(hop)
        chunk_ms[i] = (clock() - began) * 1000.0
        lost_hops += position.is_lost
        if keep_positions:
            positions.append(position)
        if position.note_index > highest:
            t = (i + 1) * HOP_SAMPLES / SAMPLE_RATE
            for index in range(highest + 1, position.note_index + 1):
                reached[index] = t
            highest = position.note_index
    note_group = {note_id: g.index for g in groups for note_id in g.note_ids}
    return FollowRun(
        follower=name or getattr(follower, "name", type(follower).__name__),
        notes=list(notes),
        group_reached_s=reached,
        note_group=note_group,
        chunk_ms=chunk_ms,
        audio_s=len(audio) / SAMPLE_RATE,
        lost_s=lost_hops * HOP_SAMPLES / SAMPLE_RATE,
        positions=positions,
    )


def follow_audio(
    notes: Sequence[ScoreNote], audio: np.ndarray, follower: str, **options: Any
) -> FollowRun:
    """Build follower ``follower`` for ``notes`` (as the live path does) and run it over ``audio``."""
    built = make_follower(follower, notes, **options)
    return run_follower(built, audio, name=follower, notes=notes)


def read_audio(path: str | Path) -> np.ndarray:
    """Any file soundfile or librosa can decode, as 16 kHz mono; ``AudioFileError`` with a reason otherwise."""
    from inference.audio import load_audio

    path = Path(path)
    if not path.is_file():
        raise AudioFileError(f"no such audio file: {path}")
    if path.stat().st_size == 0:
        raise AudioFileError(f"the audio file is empty: {path}")
    try:
        with warnings.catch_warnings():  # librosa warns on its way through its fallbacks; the error says it all
            warnings.simplefilter("ignore")
            audio = load_audio(path, SAMPLE_RATE)
    except Exception as exc:  # soundfile, audioread and librosa each raise their own error types
        detail = f"{type(exc).__name__}: {exc}".rstrip(": ")
        raise AudioFileError(f"{path.name} is not a readable audio file ({detail})") from exc
    if audio.size < HOP_SAMPLES:
        raise AudioFileError(f"{path.name} holds no audio (shorter than one 20 ms chunk)")
    if audio.size > MAX_AUDIO_SECONDS * SAMPLE_RATE:
        raise AudioFileError(f"{path.name} is longer than the limit of {MAX_AUDIO_SECONDS / 60:.0f} minutes")
    if not np.all(np.isfinite(audio)):
        raise AudioFileError(f"{path.name} contains invalid samples (NaN or infinity)")
    return audio


def follow_file(score_path: str | Path, audio_path: str | Path, follower: str, **options: Any) -> FollowRun:
    """Parse a score file (MusicXML, MIDI or ABC) and follow a recording of it; errors are ``ValueError``s."""
    from inference.scores import load_score

    score_path = Path(score_path)
    if not score_path.is_file():
        raise ValueError(f"no such score file: {score_path}")
    parsed = load_score(score_path.read_bytes(), score_path.name)
    audio = read_audio(audio_path)
    return follow_audio(parsed.notes, audio, follower, **options)
