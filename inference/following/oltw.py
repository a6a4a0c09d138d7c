"""Online time warping against a reference rendered from the score (Dixon 2005; windowed: Macrae & Dixon 2010).

The score is rendered once with Etude's additive synthesizer at the expected tempo and turned into the same
semitone-spectrum + onset features the live input gets (``features.SpectralFeatures``), so polyphonic
piano works as well as a melody and the feature delays cancel. Each 20 ms hop adds one column to an
accumulated-cost matrix over a band of reference frames around the current position. Steps advance the live
side by one frame and the reference by 0 (a pause or a slower tempo), 1 (the expected tempo) or 2-3 (faster),
so every path to a column has the same number of terms and columns compare without length normalisation.
The cursor is the band's cheapest frame, reported monotonically. When the matched sound stays unlike the score
for a while (a restart from an earlier bar, skipped bars), the follower says it is lost and aligns the next
1.5 s against the whole score with a free start (subsequence DTW), then resumes from where that ends. Before
the performer starts, a "waiting" state absorbs silence and noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from inference.following.features import N_PITCHES, SpectralFeatures
from inference.following.onsets import OnsetGroup, groups_to_follow
from inference.synth import Timbre, render_notes
from inference.types import HOP_SAMPLES, HOP_SECONDS, SAMPLE_RATE, Position, ScoreNote


@dataclass(frozen=True)
class OLTWConfig:
    """Tuning of ``OnlineTimeWarpingFollower``; frames are 20 ms hops."""

    onset_weight: float = 8.0
    """Weight of the onset half of the feature vector in the squared distance (content has weight 1)."""
    stay_penalty: float = 0.2
    """Added cost of a step that holds the reference frame (the performer slower than expected, or paused)."""
    fast_penalties: tuple[float, ...] = (0.1, 0.2)
    """Added cost of steps that advance the reference by 2, 3, ... frames in one hop."""
    enter_penalty: float = 0.2
    """Cost of leaving the waiting state for the start of the excerpt."""
    band_back_frames: int = 50
    band_ahead_frames: int = 400
    lead_in_s: float = 0.5
    timbre: Timbre = "piano-ish"
    quality_time_s: float = 0.6
    lost_cost: float = 0.75
    """A smoothed content distance above this (0 is a perfect match, ~1 unrelated sound) means lost."""
    lost_after_s: float = 1.5
    search_s: float = 1.5
    search_distance_cost: float = 0.004
    """Open-begin cost per reference frame away from the lost position: repeated material nearby wins."""
    confirm_onset: float = 0.3
    """Length of the live onset vector (0..1) that counts as an attack confirming a move to a new onset group."""
    groups_per_attack: int = 1
    """An attack confirms moving at most this many groups on (a chord's attack is not also the next notes'; on
    Vienna pianist 11 and 12 held-out tunes within 100 ms 0.951 → 0.952 and 0.908 → 0.909)."""
    confirm_memory_hops: int = 3
    """An attack confirms moves made up to this many hops after it (the feature and path may differ by a hop)."""
    unconfirmed_share: float = 0.5
    """Without an attack, the cursor reports a group only once the path is this share of the group's
    reference length past its onset (a soft or legato entry is then still reached, a little late)."""
    background_time_s: float = 1.0
    """While waiting, the background (room noise, hum) is learnt over about this long and costs nothing."""
    """When lost, align this long against the whole score with a free start, then resume where it ends."""


class OnlineTimeWarpingFollower:
    """Follower named ``"oltw"``: ``update(hop) -> Position`` on 320-sample float32 hops at 16 kHz."""

    name = "oltw"

    def __init__(
        self,
        notes: Sequence[ScoreNote],
        *,
        tempo_factor: float = 1.0,
        transpose_semitones: float = 0.0,
        a4_hz: float = 440.0,
        config: OLTWConfig | None = None,
    ) -> None:
        self.config = config or OLTWConfig()
        self.groups: list[OnsetGroup] = groups_to_follow(notes, tempo_factor)
        self.tempo_factor = tempo_factor
        self.features = SpectralFeatures()
        shift = int(round(transpose_semitones + 12.0 * np.log2(a4_hz / 440.0)))
        self._reference, self._onset_frames = self._render_reference(notes, tempo_factor, shift)
        weight = np.ones(self._reference.shape[1], dtype=np.float32)
        weight[N_PITCHES:] = np.sqrt(self.config.onset_weight)
        self._weight = weight
        self._reference *= weight
        self._reference_sq = np.sum(self._reference.astype(np.float64) ** 2, axis=1)
        self._cost = np.full(len(self._reference), np.inf)
        self.reset()

    def _render_reference(
        self, notes: Sequence[ScoreNote], tempo_factor: float, shift: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Reference features and, per onset group, the reference frame in which its onset falls."""
        cfg = self.config
        shifted = [_transposed(n, shift) for n in notes]
        audio, _ = render_notes(
            shifted, tempo_factor=tempo_factor, timbre=cfg.timbre, lead_in_s=cfg.lead_in_s, tail_s=0.5, seed=0
        )
        reference = self.features.extract(audio)
        self.features.reset()
        onset_s = np.array([cfg.lead_in_s + g.onset_s / tempo_factor for g in self.groups])
        frames = np.minimum((onset_s * SAMPLE_RATE) // HOP_SAMPLES, len(reference) - 1).astype(int)
        return reference, frames

    # -- public API -------------------------------------------------------------------------------------

    def reset(self, from_note_index: int = 0) -> None:
        """Start over, waiting for the performer to begin at onset group ``from_note_index``."""
        self.start_index = int(np.clip(from_note_index, 0, len(self.groups) - 1))
        self._start_frame = int(self._onset_frames[self.start_index])
        self._cost[:] = np.inf
        self._waiting = 0.0
        self._lo, self._hi = self._start_frame, self._start_frame + 1
        self._frame = -1
        self._reported = -1
        self._hops = 0
        self._onset_hop = -(10**9)
        self._confirmed_hop = -(10**9)
        self._quality = 0.0
        self._bad_hops = 0
        self._search_hops = 0
        self._background = np.zeros(N_PITCHES, dtype=np.float32)
        self.features.reset()

    def update(self, frame: np.ndarray) -> Position:
        """Align one hop of audio and return the position after it."""
        features = self.features(frame)
        x = features * self._weight
        self._hops += 1
        if float(np.linalg.norm(features[N_PITCHES:])) >= self.config.confirm_onset:
            self._onset_hop = self._hops
        self._step(x)
        return self._report(self._hops * HOP_SECONDS)

    # -- alignment --------------------------------------------------------------------------------------

    def _step(self, x: np.ndarray) -> None:
        cfg = self.config
        x_sq = float(x @ x)
        centre = self._frame if self._frame >= 0 else self._start_frame
        lo = max(self._start_frame, centre - cfg.band_back_frames)
        hi = min(len(self._reference), centre + cfg.band_ahead_frames)
        if self._search_hops:
            lo, hi = 0, len(self._reference)
        local = self._reference_sq[lo:hi] + x_sq - 2.0 * (self._reference[lo:hi] @ x)
        local = np.maximum(local, 0.0)
        previous = self._cost[lo:hi].copy()
        best = previous + cfg.stay_penalty
        for step, penalty in enumerate((0.0, *cfg.fast_penalties), start=1):
            shifted = np.full(hi - lo, np.inf)
            source_lo = lo - step
            if source_lo >= 0:
                shifted[:] = self._cost[source_lo : hi - step] + penalty
            else:
                shifted[-source_lo:] = self._cost[0 : hi - step] + penalty
            np.minimum(best, shifted, out=best)
        if lo <= self._start_frame < hi:
            first = self._start_frame - lo
            best[first] = min(best[first], self._waiting + cfg.enter_penalty)
        new = best + local
        waiting = self._waiting + self._background_cost(x)
        cheapest = int(np.argmin(new))
        floor = min(float(new[cheapest]), waiting)
        if self._lo < lo:
            self._cost[self._lo : lo] = np.inf
        self._cost[lo:hi] = new - floor
        self._waiting = waiting - floor
        self._lo, self._hi = lo, hi
        if self._search_hops:
            self._continue_search(lo + cheapest)
        elif new[cheapest] <= waiting:
            self._frame = lo + cheapest
            self._update_quality(self._content_distance(x, self._frame), x_sq)
        else:
            self._update_quality(min(x_sq, 1.0), x_sq)

    def _background_cost(self, x: np.ndarray) -> float:
        """Local cost of "not started yet": distance to the learnt background; onsets are never background."""
        content = x[:N_PITCHES]
        if self._reported < 0:  # a running mean at first (the first hops are the room before playing)
            rate = max(HOP_SECONDS / self.config.background_time_s, 1.0 / self._hops)
            self._background += rate * (content - self._background)
        difference = content - self._background
        return float(difference @ difference) + float(x[N_PITCHES:] @ x[N_PITCHES:])

    def _content_distance(self, x: np.ndarray, frame: int) -> float:
        difference = self._reference[frame, :N_PITCHES] - x[:N_PITCHES]
        return float(difference @ difference)

    # -- recovery ---------------------------------------------------------------------------------------

    def _start_search(self) -> None:
        """Lost: open-begin (subsequence) alignment over the whole reference for the next ``search_s``."""
        self._search_hops = max(1, int(round(self.config.search_s / HOP_SECONDS)))
        distance = np.abs(np.arange(len(self._cost)) - self._frame)
        self._cost[:] = self.config.search_distance_cost * distance
        self._waiting = np.inf

    def _continue_search(self, cheapest: int) -> None:
        self._search_hops -= 1
        if self._search_hops:
            return
        self._frame = cheapest
        lo = max(self._start_frame, cheapest - self.config.band_back_frames)
        hi = min(len(self._reference), cheapest + self.config.band_ahead_frames)
        keep = self._cost[lo:hi].copy()
        self._cost[:] = np.inf
        self._cost[lo:hi] = keep
        self._lo, self._hi = lo, hi
        self._reported = int(np.searchsorted(self._onset_frames, cheapest, side="right")) - 1
        self._bad_hops = 0
        self._quality = 0.5 * self.config.lost_cost

    def _update_quality(self, local_cost: float, x_sq: float) -> None:
        cfg = self.config
        step = HOP_SECONDS / cfg.quality_time_s
        self._quality += step * (local_cost - self._quality)
        if x_sq > 0.0 and self._quality > cfg.lost_cost:
            self._bad_hops += 1
        elif self._quality < 0.8 * cfg.lost_cost:
            self._bad_hops = 0

    # -- reporting --------------------------------------------------------------------------------------

    def _report(self, t: float) -> Position:
        if self._frame >= 0:
            self._reported = max(self._reported, self._confirmed_index(), self.start_index)
        is_lost = self._search_hops > 0 or self._bad_hops * HOP_SECONDS >= self.config.lost_after_s
        if is_lost and not self._search_hops and self._reported >= 0:
            self._start_search()
        confidence = float(np.clip(1.0 - self._quality / self.config.lost_cost, 0.0, 1.0))
        if self._reported < 0:
            group = self.groups[self.start_index]
            return Position(
                t=t,
                note_index=-1,
                note_ids=(),
                measure=group.measure,
                beat=group.beat,
                score_q=group.onset_q,
                confidence=confidence if self._hops > 5 else 0.0,
                is_lost=is_lost,
            )
        group = self.groups[self._reported]
        return Position(
            t=t,
            note_index=self._reported,
            note_ids=group.note_ids,
            measure=group.measure,
            beat=group.beat,
            score_q=self._score_q(),
            confidence=confidence,
            is_lost=is_lost,
        )

    def _confirmed_index(self) -> int:
        """The newest group the path has entered, if an attack was heard since the last confirmed move;
        otherwise the newest group the path is well past (``unconfirmed_share`` of its reference length)."""
        cfg = self.config
        index = int(np.searchsorted(self._onset_frames, self._frame, side="right")) - 1
        if index <= self._reported or self._reported < 0:
            return index
        fresh = self._onset_hop > self._confirmed_hop and self._hops - self._onset_hop <= cfg.confirm_memory_hops
        if fresh:
            self._confirmed_hop = self._onset_hop
            return min(index, self._reported + cfg.groups_per_attack)
        lengths = np.diff(self._onset_frames, append=len(self._reference))
        passed = self._frame - self._onset_frames >= cfg.unconfirmed_share * np.maximum(lengths, 1)
        candidates = np.flatnonzero(passed[: index + 1])
        return int(candidates[-1]) if candidates.size else -1

    def _score_q(self) -> float:
        """Score position in quarters, interpolated between the onsets around the matched reference frame."""
        index = self._reported
        group = self.groups[index]
        if index + 1 >= len(self.groups):
            return group.onset_q
        start, end = self._onset_frames[index], self._onset_frames[index + 1]
        share = float(np.clip((self._frame - start) / max(end - start, 1), 0.0, 1.0))
        return group.onset_q + share * (self.groups[index + 1].onset_q - group.onset_q)


def _transposed(note: ScoreNote, shift: int) -> ScoreNote:
    if shift == 0:
        return note
    from dataclasses import replace

    return replace(note, midi=int(np.clip(note.midi + shift, 0, 127)))
