"""Judging a take note by note: pitch (cents) and timing (ms) against the score, live and at the end.

``LiveJudge`` watches the stream of (PitchFrame, Position) pairs and judges each onset group once the
follower has moved past it. With a monophonic tracker a chord is judged as a whole: the group is correct when
the heard pitch matches any of its notes, and every note of the group gets that verdict.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from inference.following.onsets import OnsetGroup, shares_pitch
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

    LIMITS: ClassVar[dict[str, tuple[float, float]]] = {
        "cents_tolerance": (5.0, 600.0),
        "timing_window_ms": (20.0, 2000.0),
        "a4_hz": (400.0, 480.0),
        "transpose_semitones": (-36.0, 36.0),
    }

    def __post_init__(self) -> None:
        for name, (low, high) in self.LIMITS.items():
            value = getattr(self, name)
            if not isinstance(value, int | float) or not low <= float(value) <= high:
                raise ValueError(f"{name} must be a number from {low:g} to {high:g}, got {value!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Tolerances:
        """Tolerances from stored settings (missing keys take defaults); ``ValueError`` names a bad key."""
        data = data or {}
        unknown = set(data) - set(cls.LIMITS)
        if unknown:
            raise ValueError(f"unknown tolerance(s) {sorted(unknown)}; known: {sorted(cls.LIMITS)}")
        is_number = {k: isinstance(v, int | float) and not isinstance(v, bool) for k, v in data.items()}
        numbers = {k: float(v) if is_number[k] else v for k, v in data.items()}
        return cls(**numbers)

    def to_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in self.LIMITS}


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
        end_index: int | None = None,
    ) -> None:
        self.groups = list(groups)
        self.tolerances = tolerances or Tolerances()
        self.tempo_factor = tempo_factor
        self.start_index = start_index
        self.end_index = len(self.groups) if end_index is None else end_index
        """Groups from ``end_index`` on are beyond the excerpt being judged: followed, never judged."""
        self._history: deque[PitchFrame] = deque(maxlen=max(1, int(round(LOOKBACK_S / HOP_SECONDS))))
        self._current: int = -1
        self._collecting: _GroupFrames | None = None
        self._verdicts: dict[int, list[NoteVerdict]] = {}
        self._anchors: list[_Anchor] = []
        self._speeds: deque[float] = deque(maxlen=5)
        self._extras: dict[int, list[NoteVerdict]] = {}

    @property
    def verdicts(self) -> list[NoteVerdict]:
        """All verdicts emitted so far, in score order, each group's extras after it."""
        return [v for index in sorted(self._verdicts) for v in self._verdicts[index] + self._extras.get(index, [])]

    def observe(self, pitch: PitchFrame, position: Position) -> list[NoteVerdict]:
        """Take one hop; returns the verdicts of groups the follower has just moved past (often none)."""
        emitted: list[NoteVerdict] = []
        index = position.note_index
        if index > self._current:
            if self._current >= 0:
                emitted += self._judge_held_repeats(self._current, index)
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
        for index in range(self.start_index, self.end_index):
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
        if index in self._verdicts or not self.start_index <= index < self.end_index:
            return []
        verdicts = [
            NoteVerdict(
                note_id=note_id, result=result, cents=cents, ms=ms, detected_s=detected_s, played_midi=played_midi
            )
            for note_id in self.groups[index].note_ids
        ]
        self._verdicts[index] = verdicts
        return verdicts

    def _judge(self, index: int, *, is_inferred_onset: bool = False) -> list[NoteVerdict]:
        heard = self._collecting
        if heard is None or index in self._verdicts:
            return []
        voiced = self._strip_next_note([f for f in heard.frames if f.f0_hz > 0.0 and f.voicing >= MIN_VOICING], index)
        verdicts = self._judge_pitch_and_time(index, heard, voiced, is_inferred_onset)
        if verdicts and verdicts[0].result != "missed":
            self._extras[index] = self._extra_notes(index, voiced)
        return verdicts + self._extras.get(index, [])

    def _judge_pitch_and_time(
        self, index: int, heard: _GroupFrames, voiced: list[PitchFrame], is_inferred_onset: bool
    ) -> list[NoteVerdict]:
        if len(voiced) < 2:
            return self._held_repeat_or_missed(index, heard)
        played = np.array([self._midi(f.f0_hz) for f in self._own_segment(voiced, index)])
        cents = self._cents_to_group(played, index)
        median_cents = float(np.median(cents))
        played_midi = float(np.median(played))
        onset_t, attack_heard = self._onset_time(heard, index)
        if not attack_heard and self._repeats_previous(index):
            is_inferred_onset = True  # a re-attack too soft to hear: where it began is unknown, so it is untimed
        if abs(median_cents) > self.tolerances.cents_tolerance:
            if self._is_next_pitch(played_midi, index) and self._was_brief(heard, index):
                return self._held_repeat_or_missed(index, heard)  # the next note, reached a moment early
            return self._emit(
                index, "wrong_pitch", cents=int(round(median_cents)), detected_s=onset_t, played_midi=played_midi
            )
        if is_inferred_onset:
            rounded = int(round(median_cents))
            return self._emit(index, "correct", cents=rounded, detected_s=onset_t, played_midi=played_midi)
        deviation_s = self._timing_deviation(index, onset_t)
        self._anchors.append(_Anchor(group_index=index, onset_t=onset_t))
        ms = None if deviation_s is None else int(round(deviation_s * 1000.0))
        result: VerdictResult = "correct"
        if ms is not None and abs(ms) > self.tolerances.timing_window_ms:
            result = "late" if ms > 0 else "early"
        return self._emit(
            index, result, cents=int(round(median_cents)), ms=ms, detected_s=onset_t, played_midi=played_midi
        )

    def _judge_held_repeats(self, current: int, reached: int) -> list[NoteVerdict]:
        """The follower jumped from ``current`` past groups that repeat its pitch while one long tone sounded:
        a legato re-attack it could not hear (a slurred flute, a bowed repeat). Split what was heard at the
        written lengths (at the local tempo) and judge each part, untimed, instead of calling them missed."""
        heard = self._collecting
        run = []
        for index in range(current + 1, reached):
            if self.groups[index].midis != self.groups[current].midis or index in self._verdicts:
                break
            run.append(index)
        if heard is None or not run:
            return []
        speed = float(np.median(self._speeds)) if self._speeds else 1.0
        scale = 1.0 / self.tempo_factor / speed
        bounds = [heard.reached_t]
        for index in [current, *run]:
            bounds.append(bounds[-1] + self.groups[index].ioi_s * scale)
        if heard.frames[-1].t < bounds[-2] + 0.5 * self.groups[run[-1]].ioi_s * scale:
            return []  # the tone did not last into the last repeat
        emitted: list[NoteVerdict] = []
        frames = heard.frames
        self._collecting = _GroupFrames(reached_t=heard.reached_t, earlier=heard.earlier, frames=[])
        self._collecting.frames = [f for f in frames if f.t < bounds[1]]
        emitted += self._judge(current)
        for k, index in enumerate(run):
            start, end = bounds[k + 1], bounds[k + 2] if k + 1 < len(run) else float("inf")
            part = [f for f in frames if start <= f.t < end]
            self._collecting = _GroupFrames(reached_t=start, earlier=[], frames=part)
            emitted += self._judge(index, is_inferred_onset=True)
        self._collecting = None
        return emitted

    def _held_repeat_or_missed(self, index: int, heard: _GroupFrames) -> list[NoteVerdict]:
        """A group the follower crossed only briefly, repeating the pitch of the group before it, is correct
        (untimed) when that pitch sounded right up to the moment the follower reached it: a re-attack too
        soft to hear. Otherwise it is missed."""
        previous = self._verdicts.get(index - 1)
        own = np.array(self.groups[index].midis, dtype=float)
        tone = [f for f in heard.earlier if f.f0_hz > 0.0 and f.voicing >= MIN_VOICING]
        is_held = (
            previous is not None
            and previous[0].result in ("correct", "early", "late")
            and self.groups[index - 1].midis == self.groups[index].midis
            and len(tone) >= 0.7 * max(len(heard.earlier), 1)
            and all(np.min(np.abs(self._midi(f.f0_hz) - own)) <= 0.5 for f in tone)
        )
        if not is_held:
            return self._emit(index, "missed")
        offs = [self._midi(f.f0_hz) - own for f in tone]
        cents = float(np.median([off[np.argmin(np.abs(off))] * 100.0 for off in offs]))
        return self._emit(index, "correct", cents=int(round(cents)), detected_s=heard.reached_t, played_midi=None)

    def _own_segment(self, voiced: list[PitchFrame], index: int) -> list[PitchFrame]:
        """The frames to judge the group's pitch on: its first steady note in tune when there is one (an
        extra note played after it must not pull the pitch), else everything voiced."""
        tol = self.tolerances.cents_tolerance
        for segment in _stable_segments(voiced, self._midi):
            midis = np.array([self._midi(f.f0_hz) for f in segment])
            if abs(float(np.median(self._cents_to_group(midis, index)))) <= tol:
                return segment
        return voiced

    def _extra_notes(self, index: int, voiced: list[PitchFrame]) -> list[NoteVerdict]:
        """Notes of another pitch played after the group's own note while the follower stood on it; a run
        of the next group's pitch is not extra (the follower may lag a little)."""
        tol = self.tolerances.cents_tolerance / 100.0
        own = np.array(self.groups[index].midis, dtype=float)
        nxt = np.array(self.groups[index + 1].midis if index + 1 < len(self.groups) else (), dtype=float)
        extras: list[NoteVerdict] = []
        has_own = False
        for segment in _stable_segments(voiced, self._midi):
            midi = float(np.median([self._midi(f.f0_hz) for f in segment]))
            off = np.abs(midi - own)
            if np.min(np.minimum(off, np.abs(off - 12.0))) <= tol:
                has_own = True
            elif has_own and (nxt.size == 0 or np.min(np.abs(midi - nxt)) > tol):
                extras.append(
                    NoteVerdict(self.groups[index].note_ids[-1], "extra", detected_s=segment[0].t, played_midi=midi)
                )
        return extras

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

    def _starts_another_pitch(self, frames: list[PitchFrame], targets: np.ndarray) -> bool:
        """Whether an attack's first frames are all clearly another pitch (the next note's attack, say)."""
        pitched = [f for f in frames if f.f0_hz > 0.0]
        if not pitched:
            return False
        steps = np.array([np.min(np.abs(self._midi(f.f0_hz) - targets)) for f in pitched]) % 12.0
        return bool(np.all(np.minimum(steps, 12.0 - steps) > 1.0))  # octave errors still count as this pitch

    def _repeats_previous(self, index: int) -> bool:
        return index > 0 and shares_pitch(self.groups[index], self.groups[index - 1])

    def _onset_time(self, heard: _GroupFrames, index: int) -> tuple[float, bool]:
        """When the note began, and whether an attack was heard: the onset (rising edge of onset strength)
        nearest the follower's arrival, else the start of the run of matching pitch just before it (for a
        repeated pitch, that run is the previous note: then the arrival), else the arrival itself."""
        frames = heard.earlier + heard.frames
        if self._anchors:
            frames = [f for f in frames if f.t > self._anchors[-1].onset_t + 2 * HOP_SECONDS]
        targets = np.array(self.groups[index].midis, dtype=float)
        edges = [
            cur.t
            for k, (prev, cur) in enumerate(zip([None, *frames[:-1]], frames, strict=True))
            if cur.onset >= ONSET_STRENGTH
            and (prev is None or prev.onset < ONSET_STRENGTH)
            and not self._starts_another_pitch(frames[k : k + 3], targets)
        ]
        edges = [t for t in edges if t <= heard.reached_t + LOOKAHEAD_S or t <= heard.frames[-1].t]
        if edges:
            return min(edges, key=lambda t: abs(t - heard.reached_t)) - HOP_SECONDS / 2, True
        start = heard.reached_t
        for frame in reversed([] if self._repeats_previous(index) else heard.earlier):
            if frame.f0_hz <= 0.0 or np.min(np.abs(self._midi(frame.f0_hz) - targets)) > 0.5:
                break
            start = frame.t
        return start - HOP_SECONDS / 2, False

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


EXTRA_MIN_HOPS = 5
"""A stretch of another pitch must last this long (100 ms) to count as an extra note, not a slide."""


def _stable_segments(voiced: list[PitchFrame], to_midi: Callable[[float], float]) -> list[list[PitchFrame]]:
    """Runs of consecutive voiced frames within half a semitone of the run's first frame, long enough to be
    a note."""
    segments: list[list[PitchFrame]] = []
    current: list[PitchFrame] = []
    for frame in voiced:
        if current and (
            abs(to_midi(frame.f0_hz) - to_midi(current[0].f0_hz)) > 0.5 or frame.t - current[-1].t > 2.5 * HOP_SECONDS
        ):
            segments.append(current)
            current = []
        current.append(frame)
    segments.append(current)
    return [segment for segment in segments if len(segment) >= EXTRA_MIN_HOPS]
