"""An online, strictly causal note-level HMM score follower for monophonic (or any-note-of-a-chord) input.

Hidden states are the onset groups of the score plus a "not started yet" state. Each 20 ms hop runs one
forward-filtering step (Rabiner 1989; in score following: Cano et al. 1999, Orio & Déchelle 2001) on a band
of states around the current estimate. Transitions are explicit-duration-like: every state carries the
posterior-expected time already spent in it, and the chance of moving on rises as that time reaches the
note's written duration at the current tempo estimate (a semi-Markov approximation). Detected onsets boost
the move (so repeated pitches advance), silence holds the position (rests and pauses), a small skip and
back probability let it recover from skipped notes. The note after the cursor is also looked for in the
spectrum (``salience``): its own harmonics rising count as an onset before the pitch tracker is sure. A repeat
of the sounding pitch is heard by a small learned re-attack detector (``reattack``). Both, and the screening of
the tracker's onsets that are no new note (harmonic flips, a double stop's fundamental), live in ``cursor_onsets``.
Observations are YIN pitch likelihoods with an octave tolerance and a floor, so wrong notes do not derail it.
Far jumps (a restart from an earlier bar, skipped bars, a repeat) leave the band: when recent notes stop
matching the score near the cursor, the last few notes are searched for in the whole score
(``relocate.Relocator``) and the belief is re-seeded where they occur.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from inference.following.common_fundamental import chord_fundamental, common_fundamentals
from inference.following.cursor_onsets import CursorOnsets
from inference.following.hmm_config import HMMConfig
from inference.following.onsets import OnsetGroup, groups_to_follow, shares_pitch
from inference.following.reattack import ReattackDetector
from inference.following.relocate import NoteHistory, Relocator
from inference.pitch import hz_to_midi
from inference.pitch.yin import YinTracker
from inference.types import HOP_SECONDS, PitchFrame, Position, ScoreNote

__all__ = ["HMMConfig", "NoteHMMFollower"]


class NoteHMMFollower:
    """Follower named ``"hmm"``: ``update(hop) -> Position`` on 320-sample float32 hops at 16 kHz.

    ``observe(pitch_frame)`` does the same from an already computed ``PitchFrame`` so a caller that also
    needs the pitch (the live judge) runs the tracker once; ``last_pitch`` holds the frame of the last hop.
    """

    name = "hmm"

    def __init__(
        self,
        notes: Sequence[ScoreNote],
        *,
        tempo_factor: float = 1.0,
        transpose_semitones: float = 0.0,
        a4_hz: float = 440.0,
        config: HMMConfig | None = None,
        tracker: YinTracker | None = None,
    ) -> None:
        self.config = config or HMMConfig()
        self.groups: list[OnsetGroup] = groups_to_follow(notes, tempo_factor)
        self.tempo_factor = tempo_factor
        self.tracker = tracker or YinTracker()
        n_groups = len(self.groups)
        width = max(len(g.midis) for g in self.groups)
        pitches = np.array([list(g.midis) + [g.midis[0]] * (width - len(g.midis)) for g in self.groups], float)
        self._pitches = pitches + transpose_semitones
        self._ioi_s = np.array([g.ioi_s for g in self.groups])
        onsets_q = np.array([g.onset_q for g in self.groups])
        self._ioi_q = np.append(np.diff(onsets_q), 1.0)
        self._onset_s = np.array([g.onset_s for g in self.groups])
        self._repeats = np.array(
            [i + 1 < n_groups and shares_pitch(g, self.groups[i + 1]) for i, g in enumerate(self.groups)]
        )
        # Skipping the next note to land on the pitch already sounding would sound like staying: not allowed.
        self._can_skip = np.array(
            [i + 2 >= n_groups or not shares_pitch(g, self.groups[i + 2]) for i, g in enumerate(self.groups)],
            dtype=float,
        )
        self._common = common_fundamentals(self._pitches[:, 0])
        self._chord_common = np.array([chord_fundamental(g.midis) for g in self.groups]) + transpose_semitones
        self._a4_hz = a4_hz
        self.history = NoteHistory(a4_hz=a4_hz)
        self._relocator = Relocator(self.groups, transpose_semitones)
        self._reattack = ReattackDetector(a4_hz=a4_hz) if self.config.learned_reattack_weight > 0.0 else None
        self._onsets = CursorOnsets(
            self.groups,
            self._pitches,
            self._repeats,
            self._chord_common,
            config=self.config,
            reattack=self._reattack,
            a4_hz=a4_hz,
            transpose_semitones=transpose_semitones,
        )
        self._alpha = np.zeros(n_groups)
        self._elapsed = np.zeros(n_groups)
        self.last_pitch: PitchFrame | None = None
        self.reset()

    # -- public API -------------------------------------------------------------------------------------

    def reset(self, from_note_index: int = 0) -> None:
        """Start over, waiting for the performer to begin at onset group ``from_note_index``."""
        self.start_index = int(np.clip(from_note_index, 0, len(self.groups) - 1))
        self._alpha[:] = 0.0
        self._elapsed[:] = 0.0
        self._before = 1.0
        self._lo, self._hi = self._band_around(self.start_index)
        self.tempo_ratio = 1.0
        self._reported = -1
        self._backtrack_count = 0
        self._belief_index = -1
        self._anchors: deque[tuple[float, float]] = deque()
        self._quality = 0.5
        self._recent_bad: deque[bool] = deque(maxlen=self.config.lost_window_hops)
        self._peak_rms = 0.0
        self._misses: deque[bool] = deque(maxlen=4)
        self._recent_rms: deque[float] = deque(maxlen=self.config.release_hops)
        self.history.reset()
        self._onsets.reset()
        self.tracker.reset()
        self.last_pitch = None

    def update(self, frame: np.ndarray) -> Position:
        """Track one hop of audio and return the position after it."""
        return self.observe(self.tracker(frame))

    def observe(self, pitch: PitchFrame) -> Position:
        """One forward step from a pitch frame (what ``update`` does after running the tracker)."""
        self.last_pitch = pitch
        self._recent_rms.append(pitch.rms)
        is_voiced = pitch.f0_hz > 0.0 and pitch.rms >= self.config.release_share * max(self._recent_rms)
        pitch, is_voiced = self._onsets.screen(pitch, is_voiced, max(self._reported, self.start_index))
        if is_voiced:
            self._peak_rms = max(self._peak_rms, pitch.rms)
        else:
            self._peak_rms *= 0.998  # forget a loud passage over ~10 s
        # Unpitched sound louder than a room's noise floor (and than the decay of recent notes) is "noise".
        is_noise = not is_voiced and pitch.rms > max(self.config.noise_rms, 0.1 * self._peak_rms)
        if self.history.add(pitch):
            self._check_far_jump()
        self._predict(pitch, is_voiced)
        match = self._correct(pitch, is_voiced)
        return self._report(pitch.t, match, is_voiced, is_noise)

    # -- far jumps --------------------------------------------------------------------------------------

    def _check_far_jump(self) -> None:
        """After each new note: if recent notes miss the score around the cursor, look for them everywhere."""
        cfg = self.config
        here = self._reported if self._reported >= 0 else self.start_index
        lo, hi = max(0, here - 1), min(len(self.groups), here + 4)
        matches = self._relocator.matches(self.history.notes[-1])
        self._misses.append(not matches[lo:hi].any())
        # The belief may also have run ahead of the cursor (which moves at most a few groups per hop) while
        # the notes still match near it, as when a wrong note sends it into a later passage of the same notes.
        is_stranded = self._belief_index > here + cfg.max_report_step
        if sum(self._misses) < cfg.relocate_after_misses and not (cfg.relocate_when_stranded and is_stranded):
            return
        found = self._relocator.find(list(self.history.notes), here, min_notes=cfg.relocate_min_notes)
        if found is not None and not lo <= found < hi:
            self._jump_to(found)

    def _jump_to(self, index: int) -> None:
        """Re-seed the belief on onset group ``index``, which has been sounding for a few hops."""
        self._alpha[:] = 0.0
        self._elapsed[:] = 0.0
        self._before = 0.0
        self._lo, self._hi = self._band_around(index)
        self._alpha[index] = 1.0
        self._elapsed[index] = 3.0
        self._reported = index
        self._backtrack_count = 0
        self._anchors.clear()
        self._recent_bad.clear()
        self._misses.clear()

    # -- filtering --------------------------------------------------------------------------------------

    def _band_around(self, index: int) -> tuple[int, int]:
        return max(0, index - self.config.band_back), min(len(self.groups), index + self.config.band_ahead)

    def _expected_hops(self, lo: int, hi: int) -> np.ndarray:
        speed = self.tempo_factor * self.tempo_ratio
        return np.maximum(self._ioi_s[lo:hi] / speed / HOP_SECONDS, 1.0)

    def _predict(self, pitch: PitchFrame, is_voiced: bool) -> None:
        """Transition step on the band: stay, move on (hazard), skip one, or step back."""
        cfg = self.config
        lo, hi = self._lo, self._hi
        alpha = self._alpha[lo:hi]
        elapsed = self._elapsed[lo:hi]
        ratio = elapsed / self._expected_hops(lo, hi)
        hazard = cfg.hazard_low + (cfg.hazard_high - cfg.hazard_low) / (1.0 + np.exp(-(ratio - 1.0) / cfg.hazard_width))
        if is_voiced:
            repeats = self._repeats[lo:hi]
            overdue = np.clip((ratio - cfg.overdue_from) / cfg.overdue_width, 0.0, 1.0)
            gate = cfg.repeat_gate + (1.0 - cfg.repeat_gate) * overdue
            hazard = np.where(repeats, hazard * gate, hazard)
            ready = np.clip((ratio - np.where(repeats, cfg.repeat_ready_from, 0.4)) / 0.3, 0.0, 1.0)
            dipped = min(self._recent_rms) < cfg.dip_share * max(self._recent_rms)
            weight = cfg.dipped_onset if dipped else cfg.undipped_onset
            reattack = max(weight * pitch.onset, cfg.phase_jump_weight * pitch.phase_jump)
            onset = np.where(repeats, min(1.0, reattack), pitch.onset)
            here = max(self._reported, self.start_index)
            if lo <= here < hi:
                onset[here - lo] = max(onset[here - lo], self._onsets.onset_after(pitch, here, float(ratio[here - lo])))
            hazard = 1.0 - (1.0 - hazard) * (1.0 - cfg.onset_boost * onset * ready)
        else:
            hazard = np.minimum(hazard, cfg.hazard_silent)
        moving = alpha * hazard
        back = alpha * cfg.back_prob
        stay = alpha - moving - back
        inflow = np.zeros_like(alpha)
        skip = cfg.skip_share * self._can_skip[lo:hi]
        inflow[1:] += moving[:-1] * (1.0 - skip[:-1])
        inflow[2:] += moving[:-2] * skip[:-2]
        inflow[:-1] += back[1:]
        if self._before > 0.0 and is_voiced and lo <= self.start_index < hi:
            entering = self._before * cfg.start_hazard
            self._before -= entering
            inflow[self.start_index - lo] += entering
        new_alpha = stay + inflow
        with np.errstate(invalid="ignore", divide="ignore"):
            new_elapsed = np.where(new_alpha > 0, (stay * (elapsed + 1.0) + inflow) / new_alpha, 0.0)
        self._alpha[lo:hi] = new_alpha
        self._elapsed[lo:hi] = new_elapsed

    def _correct(self, pitch: PitchFrame, is_voiced: bool) -> np.ndarray:
        """Weight the band by the observation likelihood; returns the pitch match (0..1) of each band state."""
        cfg = self.config
        lo, hi = self._lo, self._hi
        if not is_voiced:
            self._normalise()
            return np.zeros(hi - lo)
        midi = hz_to_midi(pitch.f0_hz, self._a4_hz)
        distance = np.abs(midi - self._pitches[lo:hi])
        cents = distance.min(axis=1) * 100.0
        match: np.ndarray = np.exp(-0.5 * (cents / cfg.pitch_sigma_cents) ** 2)
        for interval in cfg.harmonics:
            off = np.abs(distance - interval).min(axis=1) * 100.0
            np.maximum(match, cfg.octave_weight * np.exp(-0.5 * (off / cfg.pitch_sigma_cents) ** 2), out=match)
        here = max(self._reported, self.start_index)
        near_lo, near_hi = max(lo, here), min(hi, here + 1 + cfg.crossfade_span)
        if cfg.crossfade_weight > 0.0 and near_hi > near_lo:  # the cursor may lie outside the band (far jumps)
            for common in (self._common, self._chord_common):
                off = np.abs(midi - common[near_lo:near_hi]) * 100.0
                crossfade = np.nan_to_num(cfg.crossfade_weight * np.exp(-0.5 * (off / cfg.pitch_sigma_cents) ** 2))
                np.maximum(match[near_lo - lo : near_hi - lo], crossfade, out=match[near_lo - lo : near_hi - lo])
        weight = float(np.clip((pitch.voicing - 0.5) / 0.3, 0.0, 1.0))
        likelihood = weight * (cfg.likelihood_floor + (1.0 - cfg.likelihood_floor) * match) + (1.0 - weight)
        self._alpha[lo:hi] *= likelihood
        self._before *= weight * cfg.before_start_likelihood + (1.0 - weight)
        self._normalise()
        return match

    def _normalise(self) -> None:
        lo, hi = self._lo, self._hi
        total = float(self._alpha[lo:hi].sum()) + self._before
        if total <= 1e-300 or not np.isfinite(total):
            # Nothing in the band explains the sound: hold a flat belief just around the cursor rather than
            # over the whole band (which would let any matching pitch far away win); far jumps are found by
            # the relocator from whole notes.
            here = self._reported if self._reported >= 0 else self.start_index
            near_lo, near_hi = max(lo, here - 1), min(hi, here + 3)
            self._alpha[lo:hi] = 0.0
            self._alpha[near_lo:near_hi] = 1.0 / max(near_hi - near_lo, 1)
            self._before = 0.0
            return
        self._alpha[lo:hi] /= total
        self._before /= total

    # -- reporting --------------------------------------------------------------------------------------

    def _report(self, t: float, match: np.ndarray, is_voiced: bool, is_noise: bool) -> Position:
        cfg = self.config
        lo, hi = self._lo, self._hi
        band = self._alpha[lo:hi]
        best = int(np.argmax(band))
        best_index, best_mass = (lo + best, float(band[best])) if band[best] > self._before else (-1, self._before)
        self._belief_index = best_index
        previous = self._reported
        # The filter alone moves the cursor by small steps; leaps (restarts, skipped bars) are the relocator's,
        # which needs whole notes to agree, so a run of matching pitches ahead cannot drag the cursor there.
        if previous < 0 and best_index > self.start_index + 1:
            # The first report is the start (or the note after it): notes played before it are a run-up (a
            # pickup, a warm-up), not a jump ahead, so belief past the start is dropped until it is reached.
            self._alpha[self.start_index + 2 :] = 0.0
            self._normalise()
        elif previous < 0 or previous <= best_index <= previous + cfg.max_report_step:
            self._reported = best_index
            self._backtrack_count = 0
        elif previous - cfg.max_report_back <= best_index < previous:  # a short step back, once it holds
            self._backtrack_count = self._backtrack_count + 1 if best_mass > 0.7 else 0
            if self._backtrack_count >= cfg.backtrack_hops:
                self._reported = best_index
                self._backtrack_count = 0
        if self._reported > previous >= 0 or (previous == -1 and self._reported >= 0):
            self._update_tempo(t, previous, self._reported)
        reported = self._reported
        mass = self._before if reported < 0 else float(self._alpha[reported])
        self._update_quality(match, reported, is_voiced, is_noise)
        self._move_band(max(reported, best_index, self.start_index if reported < 0 else 0))
        return self._position(t, reported, mass)

    def _update_quality(self, match: np.ndarray, reported: int, is_voiced: bool, is_noise: bool) -> None:
        """Track how well recent sound is explained near the reported position (for confidence and lost)."""
        cfg = self.config
        if is_voiced:
            centre = (reported if reported >= 0 else self.start_index) - self._lo
            near = match[max(0, centre - 1) : max(0, centre + 3)]
            quality = float(near.max()) if near.size else 0.0
        elif is_noise:
            quality = 0.0
        else:
            quality = 0.3  # silence neither confirms nor contradicts the position: drift to "unsure"
        step = HOP_SECONDS / cfg.quality_time_s
        self._quality += step * (quality - self._quality)
        if is_voiced or is_noise:
            self._recent_bad.append(quality < 0.1)

    def _move_band(self, centre: int) -> None:
        lo, hi = self._band_around(centre)
        if (lo, hi) == (self._lo, self._hi):
            return
        keep_alpha = self._alpha[lo:hi].copy()
        keep_elapsed = self._elapsed[lo:hi].copy()
        self._alpha[self._lo : self._hi] = 0.0
        self._elapsed[self._lo : self._hi] = 0.0
        self._alpha[lo:hi] = keep_alpha
        self._elapsed[lo:hi] = keep_elapsed
        self._lo, self._hi = lo, hi

    def _update_tempo(self, t: float, previous: int, reached: int) -> None:
        """Re-estimate the performance speed from recent (audio time, score time) anchors."""
        cfg = self.config
        score_s = self._onset_s[reached] / self.tempo_factor
        if self._anchors:
            last_t, last_score = self._anchors[-1]
            expected = (score_s - last_score) / self.tempo_ratio
            if reached - previous > 2 or t - last_t > max(1.0, 2.5 * expected) or score_s <= last_score:
                self._anchors.clear()  # a pause, a jump or a restart: earlier timing says nothing now
        self._anchors.append((t, score_s))
        while self._anchors and t - self._anchors[0][0] > cfg.tempo_window_s:
            self._anchors.popleft()
        if len(self._anchors) < 3:
            return
        times = np.array([a[0] for a in self._anchors])
        scores = np.array([a[1] for a in self._anchors])
        if times[-1] - times[0] < 0.5:
            return
        slope = float(np.polyfit(times, scores, 1)[0])
        slope = float(np.clip(slope, *cfg.tempo_limits))
        self.tempo_ratio = float(
            np.exp((1 - cfg.tempo_smoothing) * np.log(self.tempo_ratio) + cfg.tempo_smoothing * np.log(slope))
        )

    def _position(self, t: float, index: int, mass: float) -> Position:
        cfg = self.config
        is_lost = (
            len(self._recent_bad) >= cfg.lost_min_hops
            and sum(self._recent_bad) / len(self._recent_bad) > cfg.lost_share
        )
        confidence = float(np.clip(mass * min(1.0, self._quality / 0.8), 0.0, 1.0))
        if index < 0:
            group = self.groups[self.start_index]
            return Position(
                t=t,
                note_index=-1,
                note_ids=(),
                measure=group.measure,
                beat=group.beat,
                score_q=group.onset_q,
                confidence=confidence,
                is_lost=is_lost,
            )
        group = self.groups[index]
        progress = min(1.0, float(self._elapsed[index] / self._expected_hops(index, index + 1)[0]))
        return Position(
            t=t,
            note_index=index,
            note_ids=group.note_ids,
            measure=group.measure,
            beat=group.beat,
            score_q=group.onset_q + progress * float(self._ioi_q[index]),
            confidence=confidence,
            is_lost=is_lost,
        )
