"""Onset groups: the units a follower moves through.

Notes that start together (same ``onset_q``) form one group, a chord for a polyphonic score or a single note
for a melody. ``Position.note_index`` indexes these groups and ``Position.note_ids`` lists a group's ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inference.types import ScoreNote

ONSET_EPS_Q = 1e-6


@dataclass(frozen=True)
class OnsetGroup:
    """All notes that start at one score time."""

    index: int
    onset_q: float
    onset_s: float
    ioi_s: float
    """Seconds (written tempo) until the next group starts; for the last group, its longest duration."""
    midis: tuple[int, ...]
    note_ids: tuple[str, ...]
    measure: int
    beat: float


def group_onsets(notes: Sequence[ScoreNote]) -> list[OnsetGroup]:
    """Group notes by onset (sorted by time); pitches are deduplicated and sorted low to high."""
    ordered = sorted(notes, key=lambda n: (n.onset_q, n.part, n.midi))
    buckets: list[list[ScoreNote]] = []
    for note in ordered:
        if buckets and abs(note.onset_q - buckets[-1][0].onset_q) < ONSET_EPS_Q:
            buckets[-1].append(note)
        else:
            buckets.append([note])
    groups: list[OnsetGroup] = []
    for i, bucket in enumerate(buckets):
        first = bucket[0]
        if i + 1 < len(buckets):
            ioi = buckets[i + 1][0].onset_s - first.onset_s
        else:
            ioi = max(n.duration_s for n in bucket)
        groups.append(
            OnsetGroup(
                index=i,
                onset_q=first.onset_q,
                onset_s=first.onset_s,
                ioi_s=max(ioi, 1e-3),
                midis=tuple(sorted({n.midi for n in bucket})),
                note_ids=tuple(n.note_id for n in bucket),
                measure=first.measure,
                beat=first.beat,
            )
        )
    return groups


def groups_to_follow(notes: Sequence[ScoreNote], tempo_factor: float) -> list[OnsetGroup]:
    """The onset groups a follower moves through, after the checks every follower makes on its inputs."""
    if tempo_factor <= 0:
        raise ValueError(f"tempo_factor must be positive, got {tempo_factor}")
    groups = group_onsets(notes)
    if not groups:
        raise ValueError("cannot follow an empty score")
    return groups


def first_group_of_measure(groups: Sequence[OnsetGroup], measure: int) -> int:
    """Index of the first group in ``measure`` or later; 0 for measure <= first, len(groups) past the end."""
    for group in groups:
        if group.measure >= measure:
            return group.index
    return len(groups)


def shares_pitch(a: OnsetGroup, b: OnsetGroup) -> bool:
    """Whether two groups have a pitch in common (a repeated note, or a chord tone held over)."""
    return bool(set(a.midis) & set(b.midis))
