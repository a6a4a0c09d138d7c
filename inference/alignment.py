"""The take's final verdicts: offline, non-causal alignment of everything played to the score.

1. Transcribe the whole take into played notes: monophonic scores with CREPE (tiny, ONNX) pitch and a
   spectral-flux onset function (``inference.pitch.notes``); polyphonic scores with basic-pitch's notes.
2. Align played notes to score onset groups with a Needleman-Wunsch dynamic programme (a played note or
   chord may match a group, be an extra, or a group may be missed); run it twice, the second time with a
   time map fitted to the first pass's matches, so timing decides between otherwise equal alignments.
3. Where a group is missed but the previous one matched a long note of the same pitch that spans it, the
   note is split there: a legato re-attack the onset function could not hear (e.g. a flute slurring two
   equal notes).
4. Judge each group (``inference.verdicts``): pitch in cents, timing against a local tempo fitted to the
   neighbouring notes on both sides, extras attached to the score note they follow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from inference.feedback import Tolerances
from inference.following.onsets import OnsetGroup, first_group_of_measure, group_onsets
from inference.pitch.notes import PlayedNote, segment_notes, split_note
from inference.types import NoteVerdict, ScoreNote, TakeSummary
from inference.verdicts import Cluster, judge_alignment, semitones_off

MONO_PITCH_METHOD = "crepe-tiny"
CHORD_SPREAD_S = 0.07
"""Played notes starting within this of a cluster's first note form one chord."""
MISS_COST = 0.55
EXTRA_COST = 0.45
WRONG_PITCH_COST = 0.6
TIME_SCALE_S = 0.5
SPLIT_MARGIN_S = 0.08
SPLIT_MAX_SEMITONES = 1.0
"""A long note is split over a run of repeated score notes when it is within this of their pitch (it may
be out of tune: then each part is judged wrong)."""
PRIOR_WEIGHT = 0.02
"""First pass: the written tempo from the first played note only breaks ties between equal alignments."""
BAND_S = 30.0
"""In the second pass a group may only match clusters this close to where the time map expects it."""


@dataclass(frozen=True)
class TakeAlignment:
    verdicts: list[NoteVerdict]
    summary: TakeSummary
    played: list[PlayedNote]


def transcribe(audio: np.ndarray, *, polyphonic: bool) -> list[PlayedNote]:
    """Every note heard in a take (16 kHz mono float32), in onset order."""
    if polyphonic:
        from inference.pitch.basic_pitch import transcribe as transcribe_poly

        return [
            PlayedNote(e.onset_s, e.offset_s, 440.0 * 2.0 ** ((e.midi - 69) / 12.0), e.confidence)
            for e in transcribe_poly(audio)
        ]
    from inference.pitch.offline import onset_strength, pitch_track

    return segment_notes(pitch_track(audio, MONO_PITCH_METHOD), onset_strength(audio))


def align_take(
    notes: Sequence[ScoreNote],
    audio: np.ndarray,
    tolerances: Tolerances | None = None,
    *,
    tempo_factor: float = 1.0,
    from_measure: int = 1,
    to_measure: int | None = None,
) -> TakeAlignment:
    """Final verdicts and summary of a take of ``notes`` from ``from_measure`` on (to ``to_measure``, if given)."""
    groups = group_onsets(notes)
    start = first_group_of_measure(groups, from_measure)
    end = len(groups) if to_measure is None else first_group_of_measure(groups, to_measure + 1)
    if start >= end:
        raise ValueError(f"the score has no notes in measures {from_measure} to {to_measure or 'the end'}")
    # The learner may have played on past the excerpt (a live take stops only once the cursor leaves it), so the
    # take is aligned to the rest of the score and only the excerpt's verdicts are kept.
    followed = groups[start:]
    is_polyphonic = any(len(g.midis) > 1 for g in followed)
    played = transcribe(audio, polyphonic=is_polyphonic)
    midi_of = {n.note_id: n.midi for n in notes}
    verdicts = align_notes(followed, played, tolerances or Tolerances(), tempo_factor=tempo_factor, midi_of=midi_of)
    excerpt = {note_id for g in groups[start:end] for note_id in g.note_ids}
    verdicts = [v for v in verdicts if v.note_id in excerpt]
    return TakeAlignment(verdicts, summarise(verdicts, len(audio) / 16_000), played)


def align_notes(
    groups: Sequence[OnsetGroup],
    played: Sequence[PlayedNote],
    tolerances: Tolerances,
    *,
    tempo_factor: float = 1.0,
    midi_of: Mapping[str, int] | None = None,
) -> list[NoteVerdict]:
    """Verdicts for every note of ``groups`` plus extras, from notes already transcribed."""
    played = sorted(played, key=lambda p: p.onset_s)
    is_polyphonic = any(len(g.midis) > 1 for g in groups)
    clusters = _cluster(played) if is_polyphonic else [Cluster(onset_s=p.onset_s, notes=[p]) for p in played]
    prior = _written_tempo_map(groups, clusters, tempo_factor)
    pairs = _align(groups, clusters, tolerances, time_map=prior, time_weight=PRIOR_WEIGHT)
    time_map = _fit_time_map(groups, clusters, pairs, tempo_factor)
    pairs = _align(groups, clusters, tolerances, time_map=time_map)
    if not is_polyphonic:
        split = _split_legato_repeats(groups, clusters, pairs, tolerances, time_map)
        if split is not None:
            clusters = split
            pairs = _align(groups, clusters, tolerances, time_map=time_map)
    return judge_alignment(groups, clusters, pairs, tolerances, tempo_factor=tempo_factor, midi_of=midi_of)


def summarise(verdicts: Sequence[NoteVerdict], duration_s: float) -> TakeSummary:
    """Counts of every result; ``notes_total`` and ``accuracy`` count score notes only, not extras."""
    counts: dict[str, int] = {}
    for verdict in verdicts:
        counts[verdict.result] = counts.get(verdict.result, 0) + 1
    total = len(verdicts) - counts.get("extra", 0)
    judged = [i for i, v in enumerate(verdicts) if v.result != "extra" and v.result != "missed"]
    return TakeSummary(
        notes_total=total,
        counts=counts,
        accuracy=counts.get("correct", 0) / total if total else 0.0,
        duration_s=duration_s,
        reached_note_index=max(judged, default=-1),
    )


# -- the dynamic programme ----------------------------------------------------------------------------------


def _cluster(played: Sequence[PlayedNote]) -> list[Cluster]:
    clusters: list[Cluster] = []
    for note in played:
        if clusters and note.onset_s - clusters[-1].onset_s <= CHORD_SPREAD_S:
            clusters[-1].notes.append(note)
        else:
            clusters.append(Cluster(onset_s=note.onset_s, notes=[note]))
    return clusters


def _align(
    groups: Sequence[OnsetGroup],
    clusters: Sequence[Cluster],
    tolerances: Tolerances,
    *,
    time_map: tuple[np.ndarray, np.ndarray] | None,
    time_weight: float = 0.5,
) -> list[tuple[int, int]]:
    """Needleman-Wunsch over (groups, clusters); returns matched (group, cluster) index pairs in order.

    Each row is computed with numpy: the best of match / miss per cell, then the run of extras along the
    row as a running minimum over prefix sums of the extra costs.
    """
    n, m = len(groups), len(clusters)
    if n == 0 or m == 0:
        return []
    move = np.zeros((n + 1, m + 1), dtype=np.int8)  # 1 match, 2 miss (skip group), 3 extra (skip cluster)
    move[0, 1:], move[1:, 0] = 3, 2
    extra = np.array([EXTRA_COST * (0.5 + 0.5 * min(1.0, c.confidence)) for c in clusters])
    prefix = np.concatenate(([0.0], np.cumsum(extra)))
    previous = prefix.copy()
    expected = _expected_times(groups, time_map) if time_map is not None else None
    onsets = np.array([c.onset_s for c in clusters])
    for i in range(1, n + 1):
        is_banded = expected is not None and time_weight >= 0.5
        near = np.abs(onsets - expected[i - 1]) <= BAND_S if expected is not None and is_banded else np.ones(m, bool)
        row = np.full(m, np.inf)
        row[near] = _match_costs(groups[i - 1], [c for c, ok in zip(clusters, near, strict=True) if ok], tolerances)
        if expected is not None:
            row += np.minimum(np.abs(onsets - expected[i - 1]) / TIME_SCALE_S, 2.0) * time_weight
        diagonal = previous[:-1] + row
        up = previous[1:] + MISS_COST
        candidate = np.concatenate(([previous[0] + MISS_COST], np.minimum(diagonal, up)))
        current = prefix + np.minimum.accumulate(candidate - prefix)
        move[i, 1:] = np.where(diagonal <= up, 1, 2)
        move[i, 1:][current[1:] < candidate[1:] - 1e-12] = 3
        previous = current
    return _trace(move)


def _trace(move: np.ndarray) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    i, j = move.shape[0] - 1, move.shape[1] - 1
    while i > 0 or j > 0:
        step = move[i, j]
        if step == 1:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif step == 2:
            i -= 1
        else:
            j -= 1
    pairs.reverse()
    return pairs


def _match_costs(group: OnsetGroup, clusters: Sequence[Cluster], tolerances: Tolerances) -> np.ndarray:
    """Match cost of ``group`` against each cluster: 0 for a perfect match, about ``WRONG_PITCH_COST`` for
    a note of the wrong pitch (cheaper than a miss plus an extra, so a wrong note is called wrong)."""
    tol = tolerances.cents_tolerance / 100.0
    if len(group.midis) == 1 and all(len(c.notes) == 1 for c in clusters):
        hz = np.array([c.notes[0].hz for c in clusters])
        off = np.abs(semitones_off(hz, group.midis, tolerances))
        return np.where(off <= tol, 0.0, WRONG_PITCH_COST + 0.05 * np.minimum(off, 4.0))
    costs = np.empty(len(clusters))
    wanted = len(group.midis)
    for k, cluster in enumerate(clusters):
        heard = np.abs(semitones_off(np.array([n.hz for n in cluster.notes]), group.midis, tolerances))
        found = int(np.sum(heard <= tol))
        if found == 0:
            costs[k] = WRONG_PITCH_COST + 0.2
        else:
            costs[k] = 0.5 * (1.0 - min(found, wanted) / wanted) + 0.3 * (1.0 - found / len(cluster.notes))
    return costs


def _fit_time_map(
    groups: Sequence[OnsetGroup], clusters: Sequence[Cluster], pairs: Sequence[tuple[int, int]], tempo_factor: float
) -> tuple[np.ndarray, np.ndarray]:
    """Monotone (score seconds, take seconds) points from the matches; with none, the written tempo."""
    points: list[tuple[float, float]] = []
    for g, c in pairs:
        score_s, take_s = groups[g].onset_s, clusters[c].onset_s
        if not points or (score_s > points[-1][0] and take_s > points[-1][1]):
            points.append((score_s, take_s))
    if not points:
        first = clusters[0].onset_s if clusters else 0.0
        points = [(groups[0].onset_s, first)]
    if len(points) == 1:
        s0, t0 = points[0]
        points.append((s0 + 10.0, t0 + 10.0 / tempo_factor))
    xs, ys = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    return xs, ys


def _written_tempo_map(
    groups: Sequence[OnsetGroup], clusters: Sequence[Cluster], tempo_factor: float
) -> tuple[np.ndarray, np.ndarray]:
    first = clusters[0].onset_s if clusters else 0.0
    s0 = groups[0].onset_s if groups else 0.0
    return np.array([s0, s0 + 10.0]), np.array([first, first + 10.0 / tempo_factor])


def _expected_times(groups: Sequence[OnsetGroup], time_map: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Where each group should sound: interpolated in the map, extrapolated at the end slopes."""
    xs, ys = time_map
    score = np.array([g.onset_s for g in groups])
    inside = np.interp(score, xs, ys)
    head = max((ys[1] - ys[0]) / max(xs[1] - xs[0], 1e-6), 0.2)
    tail = max((ys[-1] - ys[-2]) / max(xs[-1] - xs[-2], 1e-6), 0.2)
    inside = np.where(score < xs[0], ys[0] - (xs[0] - score) * head, inside)
    result: np.ndarray = np.where(score > xs[-1], ys[-1] + (score - xs[-1]) * tail, inside)
    return result


def _split_legato_repeats(
    groups: Sequence[OnsetGroup],
    clusters: Sequence[Cluster],
    pairs: Sequence[tuple[int, int]],
    tolerances: Tolerances,
    time_map: tuple[np.ndarray, np.ndarray],
) -> list[Cluster] | None:
    """Clusters with long notes split where a run of same-pitch groups has a missed member: the note is
    cut at the expected onset of each later group of the run that falls inside it."""
    matched = dict(pairs)
    expected = _expected_times(groups, time_map)
    cuts: dict[int, list[float]] = {}
    for g, c in pairs:
        note = clusters[c].notes[0]
        if abs(float(semitones_off(np.array([note.hz]), groups[g].midis, tolerances)[0])) > SPLIT_MAX_SEMITONES:
            continue
        run = _same_pitch_run(groups, g)
        if all(h in matched for h in run):
            continue
        for h in run:
            at = float(expected[h])
            if note.onset_s + SPLIT_MARGIN_S < at < note.offset_s - SPLIT_MARGIN_S:
                cuts.setdefault(c, []).append(at)
    if not cuts:
        return None
    result: list[Cluster] = []
    for c, cluster in enumerate(clusters):
        note = cluster.notes[0]
        for at in sorted(cuts.get(c, [])):
            first, note = split_note(note, at)
            result.append(Cluster(onset_s=first.onset_s, notes=[first], is_inferred=first.onset_s != cluster.onset_s))
        result.append(Cluster(onset_s=note.onset_s, notes=[note], is_inferred=note.onset_s != cluster.onset_s))
    return result


def _same_pitch_run(groups: Sequence[OnsetGroup], g: int) -> range:
    """Indices of the consecutive groups around ``g`` that repeat its pitches."""
    start = g
    while start > 0 and groups[start - 1].midis == groups[g].midis:
        start -= 1
    end = g + 1
    while end < len(groups) and groups[end].midis == groups[g].midis:
        end += 1
    return range(start, end)
