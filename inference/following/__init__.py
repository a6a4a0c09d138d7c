"""Online score followers, chosen by name: ``make_follower("hmm", notes, tempo_factor=1.0)``.

A follower is fed one 20 ms hop (``HOP_SAMPLES`` float32 samples at ``SAMPLE_RATE``) per ``update`` and
returns a ``Position`` whose ``note_index`` indexes the score's onset groups (see ``onsets.group_onsets``).
Implementations are imported lazily, so choosing a follower in settings costs nothing until it is used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from inference.following.onsets import OnsetGroup, first_group_of_measure, group_onsets
from inference.types import PitchFrame, Position, ScoreNote

__all__ = [
    "FOLLOWERS",
    "FOLLOWER_LABELS",
    "Follower",
    "OnsetGroup",
    "PitchFollower",
    "first_group_of_measure",
    "group_onsets",
    "is_polyphonic",
    "make_follower",
    "resolve_follower",
]


@runtime_checkable
class Follower(Protocol):
    """Anything that follows a performance hop by hop."""

    groups: list[OnsetGroup]

    def update(self, frame: np.ndarray) -> Position: ...

    def reset(self, from_note_index: int = 0) -> None: ...


@runtime_checkable
class PitchFollower(Follower, Protocol):
    """A follower that can also be fed a ready ``PitchFrame`` (so the caller runs the tracker only once)."""

    def observe(self, pitch: PitchFrame) -> Position: ...


def _make_hmm(notes: Sequence[ScoreNote], **options: Any) -> Follower:
    from inference.following.hmm import NoteHMMFollower

    return NoteHMMFollower(notes, **options)


def _make_oltw(notes: Sequence[ScoreNote], **options: Any) -> Follower:
    from inference.following.oltw import OnlineTimeWarpingFollower

    return OnlineTimeWarpingFollower(notes, **options)


def _make_rl(notes: Sequence[ScoreNote], **options: Any) -> Follower:
    from inference.following.rl.follower import RLFollower

    return RLFollower(notes, **options)


def is_polyphonic(notes: Sequence[ScoreNote]) -> bool:
    """Whether some onset group of the score sounds more than one pitch (chords, two voices)."""
    return any(len(set(group.midis)) > 1 for group in group_onsets(notes))


def resolve_follower(name: str, notes: Sequence[ScoreNote]) -> str:
    """The concrete follower ``name`` stands for: ``auto`` is ``hmm`` for a single line and ``oltw`` for
    anything with chords (``hmm`` hears one pitch at a time; see docs/following.md); others are themselves."""
    if name != "auto":
        return name
    return "oltw" if is_polyphonic(notes) else "hmm"


def _make_auto(notes: Sequence[ScoreNote], **options: Any) -> Follower:
    return FOLLOWERS[resolve_follower("auto", notes)](notes, **options)


FOLLOWERS: dict[str, Callable[..., Follower]] = {
    "auto": _make_auto,
    "hmm": _make_hmm,
    "oltw": _make_oltw,
    "rl": _make_rl,
}
"""Follower factories by name; each is called as ``factory(notes, **options)``."""

FOLLOWER_LABELS: dict[str, str] = {
    "auto": "Automatic: note HMM for a single line, time warping for chords",
    "hmm": "Note HMM (melodies, voice; handles wrong notes and jumps)",
    "oltw": "Online time warping (piano and polyphony)",
    "rl": "Reinforcement-learning agent (experimental)",
}
"""What the instructor's lesson form shows for each follower."""


def make_follower(name: str, notes: Sequence[ScoreNote], **options: Any) -> Follower:
    """Build the follower registered as ``name``; raises ``ValueError`` naming the choices otherwise."""
    try:
        factory = FOLLOWERS[name]
    except KeyError:
        raise ValueError(f"unknown follower {name!r}; choose one of {sorted(FOLLOWERS)}") from None
    return factory(notes, **options)
