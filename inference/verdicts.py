"""Verdicts from an offline alignment (``inference.alignment``): each score note against what was played.

Pitch is judged in cents at the written pitch (``Tolerances``: A4 reference, transposition); timing against a
line fitted to the onsets of up to four well-played neighbours on each side (excluding the note itself), so
one late note does not make the next one early; a pause starts a new stretch and its first note is not
timed. Played notes aligned to no score note are ``extra`` and carry the id of the score note they follow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from inference.feedback import Tolerances
from inference.following.onsets import OnsetGroup
from inference.pitch.notes import PlayedNote
from inference.types import NoteVerdict, VerdictResult

NEIGHBOURS = 4
"""Matched groups on each side whose onsets define the local tempo a note is timed against."""
PAUSE_RATIO = 2.0
PAUSE_MIN_GAP_S = 1.0
_Anchor = tuple[int, float, float]
EXTRA_MIN_CONFIDENCE = 0.45
"""Unmatched played notes less certain than this (faint transcription ghosts) are not reported as extra."""
WRONG_PITCH_RANGE = 2.5
"""In a chord, a played note this many semitones or fewer from an unplayed score note is that note, wrong."""


@dataclass
class Cluster:
    """Played notes that start together (one note for a melody, a chord for piano)."""

    onset_s: float
    notes: list[PlayedNote]
    is_inferred: bool = False
    """The onset was inferred (a split legato repeat), not heard, so the note is not timed."""

    @property
    def confidence(self) -> float:
        return float(np.mean([n.confidence for n in self.notes])) if self.notes else 0.0


def written_midi(hz: np.ndarray, tolerances: Tolerances) -> np.ndarray:
    """Fractional written MIDI pitch of sounding frequencies, at the A4 reference and transposition."""
    sounding = 69.0 + 12.0 * np.log2(np.maximum(np.asarray(hz, dtype=float), 1e-9) / tolerances.a4_hz)
    written: np.ndarray = sounding - tolerances.transpose_semitones
    return written


def semitones_off(
    hz: np.ndarray, targets: Sequence[int], tolerances: Tolerances, *, fold_octaves: bool = False
) -> np.ndarray:
    """Signed semitones from each played frequency to the nearest target. Offline pitch (CREPE, basic-pitch)
    makes almost no octave errors, so an octave off is a wrong note; ``fold_octaves`` forgives it."""
    played = written_midi(hz, tolerances)
    diffs = played[:, None] - np.asarray(targets, dtype=float)[None, :]
    nearest: np.ndarray = diffs[np.arange(len(played)), np.argmin(np.abs(diffs), axis=1)]
    if fold_octaves:
        tol = tolerances.cents_tolerance / 100.0
        is_octave = np.abs(np.abs(nearest) - 12.0) <= tol
        nearest = np.where(is_octave, nearest - np.sign(nearest) * 12.0, nearest)
    return nearest


def judge_alignment(
    groups: Sequence[OnsetGroup],
    clusters: Sequence[Cluster],
    pairs: Sequence[tuple[int, int]],
    tolerances: Tolerances,
    *,
    tempo_factor: float = 1.0,
    midi_of: Mapping[str, int] | None = None,
) -> list[NoteVerdict]:
    """Verdicts in score order for every note of ``groups``; each unmatched played note is an ``extra``
    carrying the id of the score note it follows (the first note of the take when it precedes them all)."""
    matched = dict(pairs)
    timing = _LocalTempo(groups, clusters, pairs, tolerances, tempo_factor)
    out: list[NoteVerdict] = []
    matched_clusters = {c: g for g, c in pairs}
    last_group_before: dict[int, int] = {}
    latest = -1
    for c in range(len(clusters)):
        if c in matched_clusters:
            latest = matched_clusters[c]
        last_group_before[c] = latest
    extras_after: dict[int, list[PlayedNote]] = {}
    for index, cluster in enumerate(clusters):
        if index not in matched_clusters:
            extras_after.setdefault(max(last_group_before[index], 0), []).extend(cluster.notes)
    for g, group in enumerate(groups):
        if g not in matched:
            out += [NoteVerdict(note_id, "missed") for note_id in group.note_ids]
        else:
            midis = [midi_of[i] for i in group.note_ids] if midi_of else _note_midis(group)
            verdicts, leftovers = _judge_group(group, midis, clusters[matched[g]], timing.deviation(g), tolerances)
            out += verdicts
            extras_after.setdefault(g, []).extend(leftovers)
        extras = [n for n in extras_after.get(g, []) if n.confidence >= EXTRA_MIN_CONFIDENCE]
        for note in sorted(extras, key=lambda n: n.onset_s):
            out.append(
                NoteVerdict(
                    group.note_ids[-1],
                    "extra",
                    detected_s=note.onset_s,
                    played_midi=float(written_midi(np.array([note.hz]), tolerances)[0]),
                )
            )
    return out


def _judge_group(
    group: OnsetGroup, midis: Sequence[int], cluster: Cluster, deviation_s: float | None, tolerances: Tolerances
) -> tuple[list[NoteVerdict], list[PlayedNote]]:
    """Verdicts of a group's notes against the cluster it was aligned to, and the cluster's unused notes.

    Notes played in tune are paired first; then each remaining score note takes the nearest remaining played
    note as a wrong pitch (any distance for a melody note, up to ``WRONG_PITCH_RANGE`` in a chord).
    """
    tol = tolerances.cents_tolerance / 100.0
    range_ = np.inf if len(group.midis) == 1 and len(cluster.notes) == 1 else WRONG_PITCH_RANGE
    unused = list(cluster.notes)
    paired: dict[str, tuple[PlayedNote, float]] = {}
    for limit in (tol, range_):
        for note_id, target in zip(group.note_ids, midis, strict=True):
            if note_id in paired or not unused:
                continue
            offs = semitones_off(np.array([n.hz for n in unused]), [target], tolerances)
            best = int(np.argmin(np.abs(offs)))
            if abs(float(offs[best])) <= limit:
                paired[note_id] = (unused.pop(best), float(offs[best]))
    verdicts = [
        _verdict(note_id, *paired[note_id], cluster, deviation_s, tolerances)
        if note_id in paired
        else NoteVerdict(note_id, "missed")
        for note_id in group.note_ids
    ]
    return verdicts, unused


def _verdict(
    note_id: str, played: PlayedNote, off: float, cluster: Cluster, deviation_s: float | None, tolerances: Tolerances
) -> NoteVerdict:
    ms = None
    if deviation_s is not None:
        ms = int(round((deviation_s + played.onset_s - cluster.onset_s) * 1000.0))
    result: VerdictResult = "correct"
    if abs(off) > tolerances.cents_tolerance / 100.0:
        result = "wrong_pitch"
    elif ms is not None and abs(ms) > tolerances.timing_window_ms:
        result = "late" if ms > 0 else "early"
    played_midi = float(written_midi(np.array([played.hz]), tolerances)[0])
    return NoteVerdict(
        note_id, result, cents=int(round(off * 100.0)), ms=ms, detected_s=played.onset_s, played_midi=played_midi
    )


def _note_midis(group: OnsetGroup) -> list[int]:
    """The MIDI pitch of each note id of a group (``OnsetGroup.midis`` is deduplicated and sorted)."""
    if len(group.midis) == len(group.note_ids):
        return list(group.midis)
    return [group.midis[min(i, len(group.midis) - 1)] for i in range(len(group.note_ids))]


class _LocalTempo:
    """Timing of matched groups against a line fitted to the onsets of their neighbours on both sides
    (excluding the note itself), within the same stretch of playing (pauses break stretches)."""

    def __init__(
        self,
        groups: Sequence[OnsetGroup],
        clusters: Sequence[Cluster],
        pairs: Sequence[tuple[int, int]],
        tolerances: Tolerances,
        tempo_factor: float,
    ) -> None:
        tol = tolerances.cents_tolerance / 100.0
        self.anchors: list[_Anchor] = []  # (group, score s at the take's tempo, take s) of well-played groups
        for g, c in pairs:
            cluster = clusters[c]
            offs = semitones_off(np.array([n.hz for n in cluster.notes]), groups[g].midis, tolerances)
            if not cluster.is_inferred and np.any(np.abs(offs) <= tol):
                self.anchors.append((g, groups[g].onset_s / tempo_factor, cluster.onset_s))
        self.onset_of = {g: clusters[c].onset_s for g, c in pairs}
        self.inferred = {g for g, c in pairs if clusters[c].is_inferred}
        self.score_s = {g: groups[g].onset_s / tempo_factor for g in range(len(groups))}
        steps = zip(self.anchors, self.anchors[1:], strict=False)
        ratios = [(b[2] - a[2]) / (b[1] - a[1]) for a, b in steps if b[1] - a[1] > 1e-6]
        self.speed = float(np.median(ratios)) if ratios else 1.0

    def deviation(self, g: int) -> float | None:
        if g not in self.onset_of or g in self.inferred:
            return None
        me = (g, self.score_s[g], self.onset_of[g])
        others = [a for a in self.anchors if a[0] != g]
        position = sum(1 for a in others if a[0] < g)
        left = self._stretch(list(reversed(others[:position])), me)
        right = self._stretch(others[position:], me)
        points = left + right
        if len(points) < 2 or not left:
            return None  # the first note of a stretch sets its timing; it cannot be early or late
        xs = np.array([p[1] for p in points])
        ys = np.array([p[2] for p in points])
        if np.ptp(xs) < 1e-6:
            return None
        slope, intercept = np.polyfit(xs, ys, 1)
        return float(me[2] - (intercept + slope * me[1]))

    def _stretch(self, ordered: list[_Anchor], me: _Anchor) -> list[_Anchor]:
        """Up to ``NEIGHBOURS`` anchors walking away from ``me`` until a pause."""
        out: list[_Anchor] = []
        previous = me
        for anchor in ordered[:NEIGHBOURS]:
            score_gap = abs(anchor[1] - previous[1])
            take_gap = abs(anchor[2] - previous[2])
            if take_gap > max(PAUSE_MIN_GAP_S, PAUSE_RATIO * self.speed * score_gap):
                break
            out.append(anchor)
            previous = anchor
        return out
