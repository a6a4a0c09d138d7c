"""Tuning of the ``hmm`` follower (``inference.following.hmm``): every probability and threshold in one place.

The values were chosen on held-out tuning tunes (``python -m inference.bench.following_tuning``), never on the
benchmark's own performances; docs/following.md says what each guard buys.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HMMConfig:
    """Tuning of ``NoteHMMFollower``; probabilities are per 20 ms hop."""

    hazard_low: float = 0.01
    hazard_high: float = 0.35
    hazard_width: float = 0.12
    """Softness of the rise of the move-on probability around the expected end of a note (ratio units)."""
    hazard_silent: float = 0.004
    onset_boost: float = 0.9
    repeat_gate: float = 0.15
    """Without a detected onset, moving on to a note of the same pitch is this much less likely..."""
    overdue_from: float = 1.0
    overdue_width: float = 0.15
    """...until the note is overdue: from ``overdue_from`` times its expected length the gate opens, fully
    ``overdue_width`` later (a re-attack too soft to hear is still played)."""
    repeat_ready_from: float = 0.6
    """An onset moves on to a repeat of the sounding pitch only once the note has sounded this share of its
    expected length (0.4 for other notes): a violin's swell mid-note reads as an onset, and a repeat has no
    change of pitch to contradict it (0.5 before the learned re-attack detector)."""
    skip_share: float = 0.04
    back_prob: float = 1e-4
    start_hazard: float = 0.3
    pitch_sigma_cents: float = 60.0
    octave_weight: float = 0.35
    harmonics: tuple[float, ...] = (12.0,)
    """Intervals (semitones, either way) at which a tracked pitch still matches a note, with ``octave_weight``
    (octave errors; adding the 3rd and 4th harmonics, 19 and 24, measured worse on held-out tunes)."""
    release_share: float = 0.1
    """A voiced hop quieter than this share of the loudest hop of the last ``release_hops`` is a note's
    decaying tail (whose pitch often flips to a harmonic): it counts as silence, not as a new note."""
    release_hops: int = 15
    dip_share: float = 0.35
    """A repeated note's re-attack follows a dip of the level below this share of the last ``release_hops``'
    peak; an onset without such a dip (a flute's tremolo, a bow change) moves on to a repeat only weakly."""
    undipped_onset: float = 0.3
    """Weight of an onset without a dip when the next note repeats the pitch (0.5 before the learned detector
    below took over the soft re-attacks)."""
    dipped_onset: float = 4.0
    """Weight of an onset after a dip when the next note repeats the pitch (saturating at 1): bowed and
    blown re-attacks rise by only a couple of dB."""
    crossfade_span: int = 2
    """Only the next ``crossfade_span`` notes after the cursor may match as crossfades: a low sound (speech, a
    bass) can match the common fundamental of some pair of notes further on."""
    crossfade_weight: float = 0.35
    """Match given to a note when the tracked pitch is the common fundamental of it and the note before (what
    an autocorrelation tracker hears while a legato attack overlaps the previous note's release)."""
    phase_jump_weight: float = 0.5
    """Weight of a phase jump (``PitchFrame.phase_jump``) as the re-attack of a repeated note."""
    glitch_intervals: tuple[float, ...] = (12.0, 19.02, 24.0)
    """A tracked pitch that leaps up by one of these intervals (to a harmonic of the note sounding) to a
    pitch no note near the cursor has is a tracker error: the hop holds the position, like silence. (Downward
    leaps are left alone: subharmonics in attack transients belong to the new note, and holding cost time.)"""
    glitch_max_hops: int = 10
    likelihood_floor: float = 0.02
    before_start_likelihood: float = 0.15
    band_back: int = 12
    band_ahead: int = 40
    backtrack_hops: int = 5
    max_report_step: int = 3
    """The filter moves the cursor ahead by at most this many groups per hop; farther is the relocator's job."""
    max_report_back: int = 2
    tempo_window_s: float = 5.0
    tempo_smoothing: float = 0.3
    tempo_limits: tuple[float, float] = (0.5, 2.0)
    quality_time_s: float = 0.5
    noise_rms: float = 0.01
    """Unvoiced hops quieter than this (-40 dBFS) are treated as silence, whatever the room noise."""
    lost_window_hops: int = 75
    lost_min_hops: int = 25
    lost_share: float = 0.6
    relocate_min_notes: int = 4
    """A far jump needs this many newest notes to occur in a row elsewhere in the score."""
    relocate_when_stranded: bool = True
    """Also search when the filter's belief lies beyond the cursor's reach, even if recent notes match near it."""
    relocate_after_misses: int = 2
    """Search the whole score once this many of the last 4 notes do not match near the cursor."""
    salience_onset_weight: float = 0.6
    """Weight, as an onset for moving on from the cursor's note, of a rise of the next note's own harmonics
    (``salience.NextNoteSalience``): a violin's new note shows in its partials ~50 ms before YIN is sure of it."""
    salience_rise_db: float = 6.0
    """A rise of this many dB over the last 3 hops counts fully."""
    salience_min_share: float = 0.2
    """The rise counts only once the next note's own harmonics hold this share of the two notes' power."""
    learned_reattack_weight: float = 1.0
    """Weight, as the re-attack of a repeated note, of the learned detector's chance (``reattack``); 0 turns
    the detector off (no model is loaded)."""
    learned_reattack_floor: float = 0.8
    """Chances up to this count as nothing; above it they scale linearly to 1 (the network is trained with
    positives weighted up, so its chances run high: sustained flute and clarinet notes reach 0.5-0.8)."""
    learned_reattack_from: float = 0.5
    """The detector is asked only once the cursor's note has sounded this share of its expected length."""
