"""Onset evidence at the cursor of the ``hmm`` follower: which of the tracker's onsets to believe, and the
onsets it misses.

Not every pitch jump the tracker reports as an onset is a new note: a flip to a harmonic of the held note and
the jump back from it, or a jump to a double stop's common fundamental, only look like one. And the onset that
moves on from the cursor's note often comes late or not at all: a new note's own harmonics rise before YIN is
sure of its pitch (``salience``), and a bowed or blown repeat of the same pitch shows neither in the level nor
in the band flux (``reattack``). Both need the score around the cursor and a few hops of memory, kept here so
that the follower itself holds only the filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from inference.following.hmm_config import HMMConfig
from inference.following.onsets import OnsetGroup
from inference.following.reattack import ReattackDetector
from inference.following.salience import NextNoteSalience
from inference.pitch import hz_to_midi
from inference.pitch.onsets import BandFluxOnsets
from inference.types import PitchFrame


class CursorOnsets:
    """Per hop, ``screen(pitch, is_voiced, here)`` and then ``onset_after(pitch, here, elapsed_share)`` with
    ``here`` the cursor's onset group; ``reset()`` for a new stream.

    ``pitches`` are the groups' (transposed) pitches padded to one width, ``repeats`` whether each group's next
    one shares a pitch with it, ``chord_common`` each group's chord fundamental (NaN for none); ``reattack`` is
    the learned detector, or None when it is off.
    """

    def __init__(
        self,
        groups: Sequence[OnsetGroup],
        pitches: np.ndarray,
        repeats: np.ndarray,
        chord_common: np.ndarray,
        *,
        config: HMMConfig,
        reattack: ReattackDetector | None,
        a4_hz: float = 440.0,
        transpose_semitones: float = 0.0,
    ) -> None:
        self.config = config
        self._n_groups = len(groups)
        self._pitches = pitches
        self._repeats = repeats
        self._chord_common = chord_common
        self._a4_hz = a4_hz
        # The pitch a repeat re-attacks (a chord's common tone): where the learned detector listens.
        self._repeat_midi = (
            np.array(
                [
                    min(set(g.midis) & set(groups[i + 1].midis)) if repeats[i] else g.midis[0]
                    for i, g in enumerate(groups)
                ],
                dtype=float,
            )
            + transpose_semitones
        )
        self._salience = NextNoteSalience(n_fft=BandFluxOnsets.SPECTRUM_SIZE, a4_hz=a4_hz)
        self._reattack = reattack
        self.reset()

    def reset(self) -> None:
        """Forget the held note and the recent spectra (a new stream)."""
        self._held_midi = 0.0
        self._glitch_hops = 0
        self._settling_hops = 0
        self._salience.reset()
        if self._reattack is not None:
            self._reattack.reset()

    def screen(self, pitch: PitchFrame, is_voiced: bool, here: int) -> tuple[PitchFrame, bool]:
        """The hop as the filter should hear it, and whether it is voiced: a harmonic flip is not, and the pitch
        jumps back from one or to a double stop's fundamental lose their onset. Every hop must pass here once:
        the learned detector hears the screened ones."""
        after_glitch, held = self._glitch_hops > 0, self._held_midi
        is_voiced = is_voiced and not self._is_glitch(pitch, here)
        if is_voiced and after_glitch and abs(self._held_midi - held) < 0.5:
            self._settling_hops = 2  # back from a harmonic flip to the held note
        if self._settling_hops > 0:
            # The tracker's pitch-jump "onset" on the way back (it lasts two hops) is no re-attack.
            self._settling_hops -= 1
            pitch = replace(pitch, onset=0.0, phase_jump=0.0)
        elif self._is_chord_fundamental(pitch, here):
            pitch = replace(pitch, onset=0.0, phase_jump=0.0)  # nor is the jump to a double stop's fundamental
        if self._reattack is not None:
            self._reattack.push(pitch)
        return pitch, is_voiced

    def onset_after(self, pitch: PitchFrame, here: int, elapsed_share: float) -> float:
        """0..1 onset of the note after group ``here`` that the tracker's own cues miss, the cursor's note having
        sounded ``elapsed_share`` of its expected length."""
        return max(self._next_note_onset(pitch, here), self._repeat_onset(here, elapsed_share))

    def _is_chord_fundamental(self, pitch: PitchFrame, here: int) -> bool:
        """The tracker reads the common fundamental of the sounding group's notes (a double stop)."""
        if pitch.f0_hz <= 0.0 or not 0 <= here < self._n_groups or np.isnan(self._chord_common[here]):
            return False
        return abs(hz_to_midi(pitch.f0_hz, self._a4_hz) - self._chord_common[here]) < 0.5

    def _is_glitch(self, pitch: PitchFrame, here: int) -> bool:
        """Whether a voiced hop's pitch is a harmonic jump away from the held note and unexpected here."""
        cfg = self.config
        midi = hz_to_midi(pitch.f0_hz, self._a4_hz)
        leap = midi - self._held_midi
        if (
            self._held_midi
            and self._glitch_hops < cfg.glitch_max_hops
            and any(abs(leap - interval) < 0.5 for interval in cfg.glitch_intervals)
        ):
            nearby = self._pitches[max(0, here - 1) : here + 3]
            if nearby.size == 0 or np.abs(nearby - midi).min() > 0.5:
                self._glitch_hops += 1
                return True
        self._held_midi, self._glitch_hops = midi, 0
        return False

    def _next_note_onset(self, pitch: PitchFrame, here: int) -> float:
        """0..1 onset of the note after ``here`` from its own harmonics rising once they hold a fair share of the
        power (``salience``); 0 for a repeat, which has no harmonic of its own."""
        cfg = self.config
        if pitch.power is None or here + 1 >= self._n_groups or self._repeats[here]:
            return 0.0
        salience = self._salience(pitch.power, float(self._pitches[here, 0]), float(self._pitches[here + 1, 0]))
        if salience.share < cfg.salience_min_share:
            return 0.0
        return min(1.0, cfg.salience_onset_weight * float(np.clip(salience.rise_db / cfg.salience_rise_db, 0.0, 1.0)))

    def _repeat_onset(self, here: int, elapsed_share: float) -> float:
        """0..1 re-attack of the cursor's note when the next note repeats its pitch, from the learned detector
        (``reattack``): bowed and blown repeats that neither the level nor the band flux shows."""
        cfg = self.config
        if self._reattack is None or here + 1 >= self._n_groups or not self._repeats[here]:
            return 0.0
        if elapsed_share < cfg.learned_reattack_from:
            return 0.0
        chance = self._reattack(float(self._repeat_midi[here]))
        return min(
            1.0,
            cfg.learned_reattack_weight
            * max(0.0, chance - cfg.learned_reattack_floor)
            / (1.0 - cfg.learned_reattack_floor),
        )
