"""Read note-level score-to-performance alignments in the ``.match`` format (version 1.0.0; Vienna 4x22, K265).

A line ``snote(id,[step,alter],octave,bar:beat,offset,dur,onset_beats,offset_beats,[attrs])-note(id,pitch,
onset,offset,velocity,channel,track).`` ties a score note to a performed note; onsets are MIDI ticks
(``midiClockUnits`` per quarter at ``midiClockRate`` microseconds). Deleted score notes (``-deletion``) and
inserted performed notes are skipped. Score notes are matched to Etude's ``ScoreNote`` list by (onset in
quarters, MIDI pitch), since music21 does not keep MusicXML note ids.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.following.onsets import group_onsets
from inference.types import ScoreNote

_STEPS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_SNOTE = re.compile(
    r"^snote\((?P<sid>[^,]+),\[(?P<step>[A-G]),(?P<alter>[^\]]+)\],(?P<octave>-?\d+),[^,]+,[^,]+,[^,]+,"
    r"(?P<onset_beats>-?[\d.]+),"
)
_NOTE = re.compile(r"-note\((?P<pid>[^,]+),(?P<pitch>\d+),(?P<onset>-?[\d.]+),")
_INFO = re.compile(r"^info\((?P<key>\w+),(?P<value>.*)\)\.$")
_TIME_SIGNATURE = re.compile(r"^scoreprop\(timeSignature,(?P<num>\d+)/(?P<den>\d+),")


@dataclass(frozen=True)
class MatchedNote:
    """One aligned pair: the score note's pitch and onset (quarters from the first note) and when it sounded."""

    score_id: str
    midi: int
    onset_q: float
    performed_s: float


def read_match(path: str | Path) -> list[MatchedNote]:
    """The aligned notes of a match file, in file order; raises ``ValueError`` on a malformed file."""
    lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    info = {m["key"]: m["value"] for m in (_INFO.match(line) for line in lines) if m}
    if info.get("matchFileVersion", "").split(".")[0] != "1":
        raise ValueError(f"{path}: only match format 1.x is supported, got {info.get('matchFileVersion')}")
    seconds_per_tick = float(info["midiClockRate"]) / 1e6 / float(info["midiClockUnits"])
    signatures = {(int(m["num"]), int(m["den"])) for m in (_TIME_SIGNATURE.match(line) for line in lines) if m}
    denominators = {den for _, den in signatures} or {4}
    if len(denominators) > 1:
        raise ValueError(f"{path}: time signatures with different beat units are not supported")
    quarters_per_beat = 4.0 / denominators.pop()
    pairs: list[tuple[str, int, float, float]] = []
    first_q = np.inf
    for line in lines:
        score = _SNOTE.match(line)
        if not score:
            continue
        midi = 12 * (int(score["octave"]) + 1) + _STEPS[score["step"]] + _alter(score["alter"])
        onset_q = float(score["onset_beats"]) * quarters_per_beat
        first_q = min(first_q, onset_q)
        performed = _NOTE.search(line)
        if performed:
            pairs.append((score["sid"], midi, onset_q, float(performed["onset"]) * seconds_per_tick))
    return [MatchedNote(sid, midi, q - first_q, t) for sid, midi, q, t in pairs]


def _alter(text: str) -> int:
    return {"n": 0, "#": 1, "b": -1, "##": 2, "bb": -2}.get(text, 0)


def group_truth(notes: Sequence[ScoreNote], matched: Sequence[MatchedNote], tolerance_q: float = 1e-3) -> np.ndarray:
    """Per onset group of ``notes``: the earliest performed onset of its matched notes (NaN if none played)."""
    groups = group_onsets(notes)
    note_group = {note_id: g.index for g in groups for note_id in g.note_ids}
    origin = min(n.onset_q for n in notes)
    by_key: dict[tuple[int, int], list[ScoreNote]] = {}
    for note in notes:
        by_key.setdefault((round((note.onset_q - origin) / tolerance_q), note.midi), []).append(note)
    truth = np.full(len(groups), np.nan)
    for pair in matched:
        candidates = by_key.get((round(pair.onset_q / tolerance_q), pair.midi), [])
        for note in candidates:
            index = note_group[note.note_id]
            truth[index] = np.fmin(truth[index], pair.performed_s)
    return truth
