"""The trained agent behind the common follower interface (registered as ``"rl"``).

Fed 20 ms hops, it computes a spectrogram frame every second hop, asks the ONNX policy for a speed change
and moves its score position by the speed. Before the performer's first note it waits (the game always began
at the first onset); confidence is how well the heard frame matches the score where the agent reads.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from inference.following.onsets import OnsetGroup
from inference.following.rl.env import MAX_SPEED, SPEC_FRAMES, SPEED_STEP, similarity_view, speed_feature
from inference.following.rl.features import N_BINS, StreamingSpectrogram
from inference.following.rl.score_roll import NOMINAL_SPEED, VIEW_COLS, ScoreRoll
from inference.types import HOP_SECONDS, Position, ScoreNote

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "rl_follower.onnx"
START_LEVEL = 1.0
"""A frame whose loudest band exceeds this (log units) is the performer starting."""
LOST_MATCH = 0.25
LOST_FRAMES = 25


def model_path() -> Path:
    return Path(os.environ.get("ETUDE_RL_MODEL", str(DEFAULT_MODEL)))


class RLFollower:
    """Follower named ``"rl"``: the score-following game's agent, strictly causal."""

    name = "rl"

    def __init__(self, notes: Sequence[ScoreNote], *, tempo_factor: float = 1.0, model: str | Path | None = None,
                 **_ignored: object) -> None:
        from inference.runtime import onnx_session

        if tempo_factor <= 0:
            raise ValueError(f"tempo_factor must be positive, got {tempo_factor}")
        self.roll = ScoreRoll(notes, tempo_factor)  # the told tempo is the agent's nominal speed
        self.groups: list[OnsetGroup] = self.roll.groups
        self.tempo_factor = tempo_factor
        self._session = onnx_session(model or model_path())
        self._spectrogram = StreamingSpectrogram()
        self._frames: deque[np.ndarray] = deque(maxlen=SPEC_FRAMES)
        self.reset()

    def reset(self, from_note_index: int = 0) -> None:
        self.start_index = int(np.clip(from_note_index, 0, len(self.groups) - 1))
        self.pos = float(self.roll.onset_cols[self.start_index])
        self.speed = NOMINAL_SPEED
        self.is_started = False
        self._spectrogram.reset()
        self._frames.clear()
        self._hops = 0
        self._match = 0.5
        self._poor_frames = 0
        self._position = self._report()

    def update(self, frame: np.ndarray) -> Position:
        self._hops += 1
        spectrum = self._spectrogram.push(frame)
        if spectrum is not None:
            self._frames.append(spectrum)
            if not self.is_started:
                self.is_started = float(spectrum.max()) > START_LEVEL
            if self.is_started:
                self._act()
        self._position = self._report()
        return self._position

    def _act(self) -> None:
        window = np.zeros((SPEC_FRAMES, N_BINS), dtype=np.float32)
        frames = np.asarray(self._frames)
        window[SPEC_FRAMES - len(frames) :] = frames
        sim = similarity_view(window, self.roll.window(self.pos))
        speed = np.array([[speed_feature(self.speed)]], dtype=np.float32)
        logits = self._session.run(["logits"], {"sim": sim[None], "speed": speed})[0][0]
        self.speed = float(np.clip(self.speed + (int(np.argmax(logits)) - 1) * SPEED_STEP, 0.0, MAX_SPEED))
        self.pos += self.speed
        match = float(sim[0, -1, VIEW_COLS // 2 - 1 : VIEW_COLS // 2 + 2].max())
        self._match = 0.8 * self._match + 0.2 * match
        self._poor_frames = self._poor_frames + 1 if self._match < LOST_MATCH else 0

    def _report(self) -> Position:
        start = self.groups[self.start_index]
        if not self.is_started:
            return Position(self._hops * HOP_SECONDS, -1, (), start.measure, start.beat, start.onset_q, 0.0)
        index = int(np.clip(self.roll.group_at(self.pos), self.start_index, len(self.groups) - 1))
        group = self.groups[index]
        return Position(
            t=self._hops * HOP_SECONDS,
            note_index=index,
            note_ids=group.note_ids,
            measure=group.measure,
            beat=group.beat,
            score_q=float(np.interp(self.pos, self.roll.onset_cols, [g.onset_q for g in self.groups])),
            confidence=float(np.clip(self._match, 0.0, 1.0)),
            is_lost=self._poor_frames >= LOST_FRAMES,
        )

