"""One take's listening state: audio in, protocol events out (pitch → follower → judge).

The web layer owns one ``TakeSession`` per take, feeds it decoded audio as it arrives, relays the returned
events and calls ``finish`` at stop. No Django, no threads: the caller decides where this runs.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from inference.feedback import LiveJudge, Tolerances
from inference.following import Follower, PitchFollower, first_group_of_measure, make_follower
from inference.pitch.yin import YinTracker
from inference.types import (
    HOP_SAMPLES,
    HOP_SECONDS,
    SAMPLE_RATE,
    NoteVerdict,
    PitchFrame,
    Position,
    ScoreNote,
    TakeSummary,
)

if TYPE_CHECKING:  # pragma: no cover
    from inference.speech.listener import CommandListener

VERDICT_LAG_S = 0.4
"""With voice commands on, live verdicts wait this long, so those of notes that a spoken command turns out to
have covered can still be withdrawn."""
POSITION_HEARTBEAT_S = 0.25
"""An unchanged position is re-sent this often, so the page sees confidence and is_lost evolve."""


class TakeSession:
    """Listens to one take of ``notes`` starting at ``from_measure``; with ``to_measure`` only the notes up to
    that bar are judged (an excerpt: the follower still follows the whole score)."""

    def __init__(
        self,
        notes: Sequence[ScoreNote],
        *,
        follower: str = "hmm",
        tempo_factor: float = 1.0,
        from_measure: int = 1,
        to_measure: int | None = None,
        tolerances: Tolerances | None = None,
        listener: CommandListener | None = None,
    ) -> None:
        if not notes:
            raise ValueError("a take needs a score with at least one note")
        self.notes = list(notes)
        self.tolerances = tolerances or Tolerances()
        options: dict[str, Any] = {"tempo_factor": tempo_factor}
        if self.tolerances.transpose_semitones:
            options["transpose_semitones"] = self.tolerances.transpose_semitones
        if self.tolerances.a4_hz != 440.0:
            options["a4_hz"] = self.tolerances.a4_hz
        self.follower: Follower = make_follower(follower, self.notes, **options)
        self.start_index = first_group_of_measure(self.follower.groups, from_measure)
        if self.start_index >= len(self.follower.groups):
            raise ValueError(f"the score has no notes in or after measure {from_measure}")
        self.follower.reset(self.start_index)
        self._tracker = YinTracker()
        self._pitch_follower = self.follower if isinstance(self.follower, PitchFollower) else None
        groups = self.follower.groups
        end_index = len(groups) if to_measure is None else first_group_of_measure(groups, to_measure + 1)
        if end_index <= self.start_index:
            raise ValueError(f"measures {from_measure} to {to_measure} hold no notes")
        self.judge = LiveJudge(
            groups, self.tolerances, tempo_factor=tempo_factor, start_index=self.start_index, end_index=end_index
        )
        self._pending = np.zeros(0, dtype=np.float32)
        self._hops = 0
        self._last_event: Position | None = None
        self.position: Position | None = None
        self.reached_note_index = -1
        self.listener = listener
        """Hears spoken commands in the same audio (inference.speech); None when voice commands are off."""
        self._muted: LiveJudge | None = None
        self._lagged: list[tuple[float, NoteVerdict]] = []
        self._held_muted: list[tuple[float, NoteVerdict]] = []
        self.spoken_over: set[str] = set()
        """Score notes judged while a spoken command was going on: this take's live judge gives them no verdict."""

    @property
    def duration_s(self) -> float:
        """Seconds of audio processed so far (whole hops only)."""
        return self._hops * HOP_SAMPLES / SAMPLE_RATE

    def feed(self, samples: np.ndarray) -> list[dict[str, Any]]:
        """Process any amount of 16 kHz float32 audio; returns the position and verdict events it caused."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        buffered = np.concatenate((self._pending, samples)) if self._pending.size else samples
        n_hops = len(buffered) // HOP_SAMPLES
        events: list[dict[str, Any]] = []
        for i in range(n_hops):
            events += self._step(buffered[i * HOP_SAMPLES : (i + 1) * HOP_SAMPLES])
        self._pending = buffered[n_hops * HOP_SAMPLES :].copy()
        return events

    def _step(self, hop: np.ndarray) -> list[dict[str, Any]]:
        commands = self.listener.feed(hop) if self.listener is not None else []
        # While what may be speech is heard, the follower hears a pause (it holds its place and catches up
        # after); the judge hears the hop both ways until the listener decides (``_judge``). With the talk key
        # held, the learner said they are talking: neither hears it.
        is_muted = self.listener is not None and self.listener.is_hearing_speech
        if self.listener is not None and self.listener.is_push_to_talk:
            hop = np.zeros_like(hop)
        pitch = self._tracker(hop)
        if self._pitch_follower is not None:
            position = self._pitch_follower.observe(_silent(pitch) if is_muted else pitch)
        else:
            position = self.follower.update(np.zeros_like(hop) if is_muted else hop)
        self._hops += 1
        self.position = position
        self.reached_note_index = max(self.reached_note_index, position.note_index)
        events = [v.to_event() for v in self._judge(commands, pitch, position)]
        if self._should_send(position):
            self._last_event = position
            events.insert(0, position.to_event())
        return commands + events

    def _judge(self, commands: list[dict[str, Any]], pitch: PitchFrame, position: Position) -> list[NoteVerdict]:
        """Judge the hop; with voice commands on, verdicts go out ``VERDICT_LAG_S`` late, and while the listener
        cannot yet tell speech from playing the hop is judged both ways.

        A copy of the judge hears silence from the first speech-like sound on. If a command (or "didn't catch
        that") comes out, the speech was real: verdicts from just before the speech began are dropped (the
        lag keeps them unsent), the muted judge carries on, and those notes get no verdict from this take's
        live judge, so a spoken command is not judged as wrong notes. If the listener drops the segment, it
        was playing that only sounded like speech, and the judge that heard it carries on.
        """
        if self.listener is None:
            return self.judge.observe(pitch, position)
        now = self.duration_s
        if self._muted is None and self.listener.is_undecided:
            self._muted, self._held_muted = copy.deepcopy(self.judge), []
        self._lagged += [(now, v) for v in self.judge.observe(pitch, position)]
        if self._muted is not None:
            self._held_muted += [(now, v) for v in self._muted.observe(_silent(pitch), position)]
            if commands:
                start = min(c.get("timing", {}).get("speech_start_s", now) for c in commands) - 0.1
                self.spoken_over |= {v.note_id for t, v in self._lagged if t >= start and v.result != "extra"}
                self._lagged = [(t, v) for t, v in self._lagged if t < start] + self._held_muted
                self.judge, self._muted = self._muted, None
            elif not self.listener.is_undecided:
                self._muted = None
            else:
                return []
        due = [v for t, v in self._lagged if t <= now - VERDICT_LAG_S and v.note_id not in self.spoken_over]
        self._lagged = [(t, v) for t, v in self._lagged if t > now - VERDICT_LAG_S]
        return due

    def _should_send(self, position: Position) -> bool:
        last = self._last_event
        return (
            last is None
            or position.note_index != last.note_index
            or position.is_lost != last.is_lost
            or position.t - last.t > POSITION_HEARTBEAT_S - HOP_SECONDS
        )

    def finish(self) -> tuple[list[NoteVerdict], TakeSummary]:
        """Close the take: one verdict per score note from ``from_measure`` on, and the summary."""
        verdicts = [v for v in self.judge.final_verdicts() if v.note_id not in self.spoken_over or v.result == "extra"]
        counts: dict[str, int] = {}
        for verdict in verdicts:
            counts[verdict.result] = counts.get(verdict.result, 0) + 1
        total = len(verdicts) - counts.get("extra", 0)  # extras are played notes, not score notes
        summary = TakeSummary(
            notes_total=total,
            counts=counts,
            accuracy=counts.get("correct", 0) / total if total else 0.0,
            duration_s=self.duration_s,
            reached_note_index=self.reached_note_index,
        )
        return verdicts, summary


def _silent(pitch: PitchFrame) -> PitchFrame:
    """The same moment heard as a pause."""
    return replace(pitch, f0_hz=0.0, voicing=0.0, rms=0.0, onset=0.0)
