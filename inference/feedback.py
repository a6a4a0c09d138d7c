"""Judging a take note by note: pitch (cents) and timing (ms) against the score, live and at the end.

``LiveJudge`` watches the stream of (PitchFrame, Position) pairs and judges each onset group once the
follower has moved past it. With a monophonic tracker a chord is judged as a whole: the group is correct when
the heard pitch matches any of its notes, and every note of the group gets that verdict.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from inference.following.onsets import OnsetGroup
from inference.types import HOP_SECONDS, NoteVerdict, PitchFrame, Position, VerdictResult

MIN_VOICING = 0.6
ONSET_STRENGTH = 0.3
LOOKBACK_S = 0.2
LOOKAHEAD_S = 0.15
PAUSE_FACTOR = 2.0
PAUSE_MIN_S = 1.0
MAX_LAG_HOPS = 5
"""The follower may lag the music by up to this many hops; the next note heard that late is not this one."""


@dataclass(frozen=True)
class Tolerances:
    """How strict the judgement is; set per assignment by the instructor."""

    cents_tolerance: float = 50.0
    timing_window_ms: float = 150.0
    a4_hz: float = 440.0
    transpose_semitones: float = 0.0
    """Sounding minus written pitch (e.g. -2 for a B-flat clarinet reading written pitch)."""


@dataclass
class _GroupFrames:
    """What was heard while the follower stood on one group (plus a little before, for its onset)."""

    reached_t: float
    earlier: list[PitchFrame]
    frames: list[PitchFrame] = field(default_factory=list)


@dataclass
class _Anchor:
    """A judged group that was actually played: where its onset was heard."""

    group_index: int
    onset_t: float


class LiveJudge:
    """Emits ``NoteVerdict``s as the follower moves past onset groups; ``final_verdicts`` closes the take."""

    def __init__(
        self,
        groups: Sequence[OnsetGroup],
        tolerances: Tolerances | None = None,
        *,
        tempo_factor: float = 1.0,
        start_index: int = 0,
    ) -> None:
        self.groups = list(groups)
        self.tolerances = tolerances or Tolerances()
        self.tempo_factor = tempo_factor
        self.start_index = start_index
        self._history: deque[PitchFrame] = deque(maxlen=max(1, int(round(LOOKBACK_S / HOP_SECONDS))))
        self._current: int = -1
        self._collecting: _GroupFrames | None = None
        self._verdicts: dict[int, list[NoteVerdict]] = {}
        self._anchors: list[_Anchor] = []
        self._speeds: deque[float] = deque(maxlen=5)

    @property
    def verdicts(self) -> list[NoteVerdict]:
        """All verdicts emitted so far, in score order."""
        return [v for index in sorted(self._verdicts) for v in self._verdicts[index]]

    def observe(self, pitch: PitchFrame, position: Position) -> list[NoteVerdict]:
        """Take one hop; returns the verdicts of groups the follower has just moved past (often none)."""
        emitted: list[NoteVerdict] = []
        index = position.note_index
        if index > self._current:
            if self._current >= 0:
                emitted += self._judge(self._current)
            for skipped in range(max(self._current + 1, self.start_index), index):
                emitted += self._emit(skipped, "missed")
            self._current = index
            self._collecting = _GroupFrames(reached_t=pitch.t, earlier=list(self._history))
        elif index < self._current and index >= 0 and index not in self._verdicts:
            # The follower stepped back onto a group it had left unjudged: keep listening for it.
            self._current = index
            self._collecting = _GroupFrames(reached_t=pitch.t, earlier=list(self._history))
        if self._collecting is not None:
            self._collecting.frames.append(pitch)
        self._history.append(pitch)
        return emitted

    def final_verdicts(self) -> list[NoteVerdict]:
        """Judge the group being played and mark every group never reached as missed; all verdicts in order."""
        if self._current >= 0:
            self._judge(self._current)
        for index in range(self.start_index, len(self.groups)):
            if index not in self._verdicts:
                self._emit(index, "missed")
        return self.verdicts

    # -- judgement --------------------------------------------------------------------------------------

    def _emit(
        self,
        index: int,
        result: VerdictResult,
        *,
        cents: int | None = None,
        ms: int | None = None,
        detected_s: float | None = None,
        played_midi: float | None = None,
    ) -> list[NoteVerdict]:
        if index in self._verdicts or index < self.start_index:
            return []
        verdicts = [
            NoteVerdict(
                note_id=note_id, result=result, cents=cents, ms=ms, detected_s=detected_s, played_midi=played_midi
            )
            for note_id in self.groups[index].note_ids
        ]
        self._verdicts[index] = verdicts
        return verdicts

    def _judge(self, index: int) -> list[NoteVerdict]:
        heard = self._collecting
        if heard is None or index in self._verdicts:
            return []
        voiced = self._strip_next_note([f for f in heard.frames if f.f0_hz > 0.0 and f.voicing >= MIN_VOICING], index)
        if len(voiced) < 2:
            return self._emit(index, "missed")
        played = np.array([self._midi(f.f0_hz) for f in voiced])
        cents = self._cents_to_group(played, index)
        median_cents = float(np.median(cents))
        played_midi = float(np.median(played))
        onset_t = self._onset_time(heard, index)
        if abs(median_cents) > self.tolerances.cents_tolerance:
            if self._is_next_pitch(played_midi, index) and self._was_brief(heard, index):
                return self._emit(index, "missed")  # it was the next note, reached a moment early
            return self._emit(
                index, "wrong_pitch", cents=int(round(median_cents)), detected_s=onset_t, played_midi=played_midi
            )
        deviation_s = self._timing_deviation(index, onset_t)
        self._anchors.append(_Anchor(group_index=index, onset_t=onset_t))
        ms = None if deviation_s is None else int(round(deviation_s * 1000.0))
        result: VerdictResult = "correct"
        if ms is not None and abs(ms) > self.tolerances.timing_window_ms:
            result = "late" if ms > 0 else "early"
        return self._emit(
            index, result, cents=int(round(median_cents)), ms=ms, detected_s=onset_t, played_midi=played_midi
        )

    def _midi(self, f0_hz: float) -> float:
        return 69.0 + 12.0 * math.log2(f0_hz / self.tolerances.a4_hz) - self.tolerances.transpose_semitones

    def _cents_to_group(self, played: np.ndarray, index: int) -> np.ndarray:
        """Cents from each played pitch to the nearest note of the group, forgiving tracker octave errors."""
        targets = np.array(self.groups[index].midis, dtype=float)
        diffs = (played[:, None] - targets[None, :]) * 100.0
        nearest = diffs[np.arange(len(played)), np.argmin(np.abs(diffs), axis=1)]
        octave_off = np.abs(np.abs(nearest) - 1200.0) <= self.tolerances.cents_tolerance
        folded: np.ndarray = np.where(octave_off, nearest - np.sign(nearest) * 1200.0, nearest)
        return folded

    def _is_next_pitch(self, played_midi: float, index: int) -> bool:
        if index + 1 >= len(self.groups):
            return False
        nxt = np.array(self.groups[index + 1].midis, dtype=float)
        return bool(np.min(np.abs(played_midi - nxt)) * 100.0 <= self.tolerances.cents_tolerance)

    def _strip_next_note(self, voiced: list[PitchFrame], index: int) -> list[PitchFrame]:
        """Drop the trailing frames that already sound the next group (heard before the follower moved)."""
        if index + 1 >= len(self.groups):
            return voiced
        nxt = np.array(self.groups[index + 1].midis, dtype=float)
        own = np.array(self.groups[index].midis, dtype=float)
        end = len(voiced)
        while end > max(0, len(voiced) - MAX_LAG_HOPS):
            midi = self._midi(voiced[end - 1].f0_hz)
            if np.min(np.abs(midi - nxt)) > 0.5 or np.min(np.abs(midi - own)) <= 0.5:
                break
            end -= 1
        return voiced[:end]

    def _was_brief(self, heard: _GroupFrames, index: int) -> bool:
        """Whether the follower stood on the group for under half of its written length."""
        speed = float(np.median(self._speeds)) if self._speeds else 1.0
        expected_s = self.groups[index].ioi_s / self.tempo_factor / speed
        return len(heard.frames) * HOP_SECONDS < 0.5 * expected_s

    def _onset_time(self, heard: _GroupFrames, index: int) -> float:
        """When the note began: the onset (rising edge of onset strength) nearest the follower's arrival,
        else the start of the run of matching pitch just before it, else the arrival itself."""
        frames = heard.earlier + heard.frames
        if self._anchors:
            frames = [f for f in frames if f.t > self._anchors[-1].onset_t + 2 * HOP_SECONDS]
        edges = [
            cur.t
            for prev, cur in zip([None, *frames[:-1]], frames, strict=True)
            if cur.onset >= ONSET_STRENGTH and (prev is None or prev.onset < ONSET_STRENGTH)
        ]
        edges = [t for t in edges if t <= heard.reached_t + LOOKAHEAD_S or t <= heard.frames[-1].t]
        if edges:
            return min(edges, key=lambda t: abs(t - heard.reached_t)) - HOP_SECONDS / 2
        targets = np.array(self.groups[index].midis, dtype=float)
        start = heard.reached_t
        for frame in reversed(heard.earlier):
            if frame.f0_hz <= 0.0 or np.min(np.abs(self._midi(frame.f0_hz) - targets)) > 0.5:
                break
            start = frame.t
        return start - HOP_SECONDS / 2

    def _timing_deviation(self, index: int, onset_t: float) -> float | None:
        """Seconds between the heard onset and the one expected from the previous played note at the local
        tempo; None for the first note, after a pause, or when nothing before it was played."""
        if not self._anchors:
            return None
        previous = self._anchors[-1]
        score_gap = (self.groups[index].onset_s - self.groups[previous.group_index].onset_s) / self.tempo_factor
        if score_gap <= 0:
            return None
        heard_gap = onset_t - previous.onset_t
        speed = float(np.median(self._speeds)) if self._speeds else 1.0
        expected_gap = score_gap / speed
        if heard_gap > max(PAUSE_MIN_S, PAUSE_FACTOR * expected_gap):
            return None  # a pause to think, not a late note
        if heard_gap > 0 and index - previous.group_index == 1:
            self._speeds.append(float(np.clip(score_gap / heard_gap, 0.5, 2.0)))
        return heard_gap - expected_gap
