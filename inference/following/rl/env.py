"""The score-following game: observation, actions, reward and termination, for a batch of episodes.

Per frame the agent picks an action in {0, 1, 2}: slow down by ``SPEED_STEP``, keep, or speed up; its
score position then moves by its speed. The reward is ``(theta - |e|) / theta`` with ``e`` the estimated
minus the true position (columns) and ``theta`` a third of the score window; the episode ends when
``|e| > theta`` (target lost) or when the performance reaches its last onset (Dorfer et al., 2018).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from inference.following.rl.features import FRAME_HOP, N_BINS
from inference.following.rl.performances import Performance
from inference.following.rl.score_image import ScoreImage
from inference.following.rl.score_roll import NOMINAL_SPEED, WINDOW_COLS, ScoreRoll
from inference.types import SAMPLE_RATE

ScoreView = ScoreRoll | ScoreImage
SPEC_FRAMES = 40
"""Spectrogram frames the agent hears at once (1.6 s)."""
THETA = WINDOW_COLS / 3
SPEED_STEP = NOMINAL_SPEED / 8
MAX_SPEED = NOMINAL_SPEED * 3
N_ACTIONS = 3
SPEC_FLOOR = 0.5
"""Window normalisation never divides by less than this, so near-silence is not blown up into noise."""


@dataclass
class Observation:
    """A batch of game states as named network inputs.

    Symbolic view: ``sim`` (n, 2, SPEC_FRAMES, VIEW_COLS) similarity maps. Image view (the original game):
    ``spec`` (n, 2, N_BINS, SPEC_FRAMES) spectrogram and its onset difference, ``score`` (n, 2, IMAGE_ROWS,
    VIEW_COLS) sheet excerpt and its difference to the previous excerpt. Both: ``speed`` (n, 1).
    """

    inputs: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return len(self.inputs["speed"])


def _unit_columns(matrix: np.ndarray) -> np.ndarray:
    """Columns scaled to unit length (all-zero columns stay zero)."""
    norms = np.linalg.norm(matrix, axis=0, keepdims=True)
    return matrix / np.maximum(norms, 1e-3)


def similarity_view(spec_window: np.ndarray, score_window: np.ndarray) -> np.ndarray:
    """(2, SPEC_FRAMES, VIEW_COLS): how much each heard frame sounds like each score column.

    Channel 0 compares spectra (cosine of the log-semitone frame and the painted score column), channel 1
    compares onsets (rise of the spectrum against the rise of the score along its axis). This fixed first
    layer replaces the raw-image encoders of the original: the policy then reads the slope and offset of the
    alignment ridge instead of having to learn pitch matching, which makes CPU training affordable.
    ``spec_window`` is (SPEC_FRAMES, N_BINS) log frames, ``score_window`` (N_BINS, VIEW_COLS).
    """
    level = max(float(spec_window.max()), SPEC_FLOOR)
    spec = spec_window / level
    loud = np.clip(spec.max(axis=1, keepdims=True) * 4.0, 0.0, 1.0)  # near-silent frames count less
    # Keep the peaks: the log spectrum's broad floor would otherwise dominate the cosine.
    spec = np.maximum(spec - spec.mean(axis=1, keepdims=True), 0.0) ** 2
    spec_rise = np.maximum(np.diff(spec, axis=0, prepend=spec[:1]), 0.0)
    score_rise = np.maximum(np.diff(score_window, axis=1, prepend=score_window[:, :1]), 0.0)
    timbre = _unit_columns(spec.T).T @ _unit_columns(score_window) * loud
    onsets = _unit_columns(spec_rise.T).T @ _unit_columns(score_rise)
    return np.stack((timbre, onsets)).astype(np.float32)


def spectrogram_view(spec_window: np.ndarray) -> np.ndarray:
    """(2, N_BINS, SPEC_FRAMES): the level-normalised window and its rise, as the original stacked them."""
    spec = spec_window / max(float(spec_window.max()), SPEC_FLOOR)
    rise = np.maximum(np.diff(spec, axis=0, prepend=spec[:1]), 0.0)
    return np.stack((spec.T, rise.T)).astype(np.float32)


def speed_feature(speed: float) -> float:
    return speed / NOMINAL_SPEED - 1.0


def spec_window_at(frames: np.ndarray, frame: int) -> np.ndarray:
    """The SPEC_FRAMES frames ending at ``frame`` (zero-padded before the start)."""
    window = frames[max(0, frame - SPEC_FRAMES + 1) : frame + 1]
    if len(window) < SPEC_FRAMES:
        window = np.concatenate((np.zeros((SPEC_FRAMES - len(window), N_BINS), np.float32), window))
    return window


@dataclass
class Track:
    """One performance prepared for the game."""

    performance: Performance
    view: ScoreView
    true_cols: np.ndarray
    """True score position (columns) at the end of every spectrogram frame."""
    first_frame: int
    last_frame: int
    onset_frames: np.ndarray
    """Frame in which each onset group is performed."""

    @property
    def is_image(self) -> bool:
        return not isinstance(self.view, ScoreRoll)

    @classmethod
    def from_performance(
        cls, performance: Performance, view: ScoreView | None = None, *, tempo_factor: float = 1.0
    ) -> Track:
        """``tempo_factor``: the tempo the performer was told, relative to the written one (symbolic view)."""
        view = view or ScoreRoll(performance.notes, tempo_factor)
        n = len(performance.spec)
        times = (np.arange(n) + 1) * FRAME_HOP / SAMPLE_RATE
        true_cols = np.interp(times, performance.onset_times, view.onset_cols)
        onset_frames = np.ceil(performance.onset_times * SAMPLE_RATE / FRAME_HOP - 1).astype(int)
        onset_frames = np.clip(onset_frames, 0, n - 1)
        return cls(performance, view, true_cols, int(onset_frames[0]), int(onset_frames[-1]), onset_frames)


class FollowingGame:
    """``n`` episodes played side by side; finished ones restart on a random track (``auto_reset``)."""

    def __init__(self, tracks: Sequence[Track], n: int, rng: np.random.Generator, *, random_starts: bool = True):
        if not tracks:
            raise ValueError("the game needs at least one track")
        self.tracks = list(tracks)
        self.n = n
        self.rng = rng
        self.random_starts = random_starts
        self.track = [self.tracks[0]] * n
        self.frame = np.zeros(n, dtype=int)
        self.pos = np.zeros(n)
        self.speed = np.zeros(n)
        self.is_image = self.tracks[0].is_image
        if any(t.is_image != self.is_image for t in self.tracks):
            raise ValueError("all tracks of a game must use the same score view")
        self._previous: list[np.ndarray | None] = [None] * n
        for i in range(n):
            self.start(i, self.tracks[int(rng.integers(len(self.tracks)))])

    def start(self, i: int, track: Track, onset_index: int | None = None) -> None:
        """Begin episode ``i`` at an onset of ``track`` (the first, or a random one in its first half)."""
        if onset_index is None:
            half = max(1, len(track.onset_frames) // 2)
            onset_index = int(self.rng.integers(half)) if self.random_starts else 0
        self.track[i] = track
        self.frame[i] = int(track.onset_frames[onset_index])
        self.pos[i] = float(track.true_cols[self.frame[i]])
        self.speed[i] = NOMINAL_SPEED
        self._previous[i] = None

    def observe(self) -> Observation:
        speed = np.array([[speed_feature(s)] for s in self.speed], dtype=np.float32)
        windows = [spec_window_at(t.performance.spec, int(f)) for t, f in zip(self.track, self.frame, strict=True)]
        excerpts = [t.view.window(p) for t, p in zip(self.track, self.pos, strict=True)]
        if not self.is_image:
            sim = np.stack([similarity_view(w, e) for w, e in zip(windows, excerpts, strict=True)])
            return Observation({"sim": sim, "speed": speed})
        score = np.empty((self.n, 2, *excerpts[0].shape), dtype=np.float32)
        for i, excerpt in enumerate(excerpts):
            previous = self._previous[i]
            score[i, 0] = excerpt
            score[i, 1] = excerpt - (previous if previous is not None else excerpt)
            self._previous[i] = excerpt
        spec = np.stack([spectrogram_view(w) for w in windows])
        return Observation({"spec": spec, "score": score, "speed": speed})

    def step(self, actions: np.ndarray, *, auto_reset: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Apply one action per episode; returns (reward, done, error in columns before any reset)."""
        self.speed = np.clip(self.speed + (np.asarray(actions) - 1) * SPEED_STEP, 0.0, MAX_SPEED)
        self.pos = self.pos + self.speed
        self.frame = self.frame + 1
        pairs = zip(self.track, self.frame, strict=True)
        truth = np.array([track.true_cols[min(f, len(track.true_cols) - 1)] for track, f in pairs])
        error = self.pos - truth
        reward = (THETA - np.abs(error)) / THETA
        last = np.array([t.last_frame for t in self.track])
        done = (np.abs(error) > THETA) | (self.frame >= last)
        if auto_reset:
            for i in np.flatnonzero(done):
                self.start(int(i), self.tracks[int(self.rng.integers(len(self.tracks)))])
        return reward.astype(np.float32), done, error
