"""Performances to train and test the agent on: a score, audio with a tempo curve, and the truth.

A performance warps the written timing with a global tempo factor, a slow sinusoidal modulation and onset
jitter (the original game's training data had plain tempo changes), is written as MIDI and rendered by
FluidSynth with a General MIDI instrument. The truth is the performed time of every onset group. The
``"wide"`` rubato adds what real pianists do beyond that: a wandering tempo (a smoothed random walk of its
logarithm) and held notes and breaths (pauses after some onset groups, longer ones at long notes).
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.audio import load_audio
from inference.following.onsets import group_onsets
from inference.following.rl.features import spectrogram
from inference.synth import notes_to_midi, render_with_fluidsynth
from inference.types import ScoreNote

TRAIN_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
TEST_SOUNDFONT = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
PROGRAMS = (0, 40, 41, 56, 65, 68, 71, 73, 22, 24)
"""GM programs performances are drawn from: piano, violin, viola, trumpet, alto sax, oboe, clarinet, flute,
harmonica, nylon guitar."""


RUBATO = ("mild", "wide")
WANDER_STEP_S = 1.5
"""Score seconds between the knots of the wandering tempo."""


@dataclass(frozen=True)
class TempoCurve:
    """Performed tempo relative to the written one, as a function of score seconds."""

    factor: float
    depth: float
    period_s: float
    phase: float
    jitter_s: float
    wander: tuple[float, ...] = ()
    """Log-tempo offsets every ``WANDER_STEP_S`` score seconds (linearly joined; none: no wandering)."""
    pause_rate: float = 0.0
    """Chance that the performer pauses after an onset group (twice that after a long note)."""

    def ratio(self, score_s: np.ndarray) -> np.ndarray:
        ratio = self.factor * (1.0 + self.depth * np.sin(2 * np.pi * score_s / self.period_s + self.phase))
        if self.wander:
            knots = np.arange(len(self.wander)) * WANDER_STEP_S
            ratio = ratio * np.exp(np.interp(score_s, knots, self.wander))
        return ratio

    def pauses(self, score_s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Performed seconds added after each onset group at ``score_s`` (held notes, breaths; 0 mostly)."""
        if not self.pause_rate or len(score_s) < 2:
            return np.zeros(len(score_s))
        ioi = np.diff(score_s, append=score_s[-1])
        chance = self.pause_rate * np.where(ioi >= 2 * np.median(ioi[:-1]), 2.0, 1.0)
        is_paused = rng.random(len(score_s)) < chance
        is_paused[-1] = False
        return np.where(is_paused, rng.uniform(0.25, 1.5, len(score_s)) * np.maximum(ioi, 0.25) / self.factor, 0.0)

    def performed_times(self, score_s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Performed seconds of score times ``score_s`` (sorted): the integral of 1 / ratio, plus jitter."""
        grid = np.linspace(0.0, float(score_s.max()) + 1.0, max(4096, int(score_s.max() * 50)))
        dt = np.diff(grid, prepend=0.0) / self.ratio(grid)
        times = np.interp(score_s, grid, np.cumsum(dt))
        times = times + rng.normal(0.0, self.jitter_s, size=times.shape)
        return np.maximum.accumulate(np.maximum(times, 0.0))


def random_curve(
    rng: np.random.Generator, *, factor_range: tuple[float, float] = (0.8, 1.25), rubato: str = "mild",
    score_s: float = 0.0,
) -> TempoCurve:
    """A random tempo curve; ``"wide"`` rubato (``score_s`` long) wanders more, faster, and pauses."""
    if rubato not in RUBATO:
        raise ValueError(f"rubato must be one of {RUBATO}, not {rubato!r}")
    low, high = np.log(factor_range[0]), np.log(factor_range[1])
    factor = float(np.exp(rng.uniform(low, high)))
    if rubato == "mild":
        return TempoCurve(
            factor=factor,
            depth=float(rng.uniform(0.0, 0.12)),
            period_s=float(rng.uniform(4.0, 12.0)),
            phase=float(rng.uniform(0.0, 2 * np.pi)),
            jitter_s=float(rng.uniform(0.0, 0.015)),
        )
    steps = rng.normal(0.0, rng.uniform(0.03, 0.1), int(score_s / WANDER_STEP_S) + 2)
    wander = np.zeros(len(steps))
    for k in range(1, len(steps)):  # a random walk pulled back towards the global tempo
        wander[k] = 0.85 * wander[k - 1] + steps[k]
    wander = np.clip(wander, -0.3, 0.3)
    return TempoCurve(
        factor=factor,
        depth=float(rng.uniform(0.0, 0.2)),
        period_s=float(rng.uniform(3.0, 12.0)),
        phase=float(rng.uniform(0.0, 2 * np.pi)),
        jitter_s=float(rng.uniform(0.0, 0.025)),
        wander=tuple(np.round(wander, 4).tolist()),
        pause_rate=float(rng.uniform(0.0, 0.06)),
    )


@dataclass
class Performance:
    """One rendered performance of ``notes``: its spectrogram and the performed time of each onset group."""

    name: str
    notes: list[ScoreNote]
    spec: np.ndarray
    onset_times: np.ndarray
    lead_in_s: float = 0.5


def perform(notes: Sequence[ScoreNote], curve: TempoCurve, rng: np.random.Generator, lead_in_s: float = 0.5):  # type: ignore[no-untyped-def]
    """Performed copies of ``notes`` (onsets and durations warped) and the performed time of each group."""
    groups = group_onsets(notes)
    score_s = np.array([g.onset_s for g in groups])
    pauses = curve.pauses(score_s, rng)
    group_times = curve.performed_times(score_s, rng) + lead_in_s + np.cumsum(pauses) - pauses
    by_onset = {round(g.onset_q, 6): (t, pause) for g, t, pause in zip(groups, group_times, pauses, strict=True)}
    performed = []
    for note in notes:
        onset, pause = by_onset[round(note.onset_q, 6)]
        ratio = float(curve.ratio(np.array([note.onset_s]))[0])
        performed.append(dataclasses.replace(note, onset_s=onset, duration_s=note.duration_s / ratio + pause))
    return performed, group_times


def render_performance(
    name: str,
    notes: Sequence[ScoreNote],
    rng: np.random.Generator,
    *,
    soundfont: Path,
    cache_dir: Path | None = None,
    programs: tuple[int, ...] | None = None,
    rubato: str = "mild",
) -> Performance:
    """Warp, render and analyse one performance (the spectrogram is cached by content when ``cache_dir``)."""
    curve = random_curve(rng, rubato=rubato, score_s=max(n.onset_s + n.duration_s for n in notes))
    program = int(rng.choice(programs or PROGRAMS))
    performed, group_times = perform(notes, curve, rng)
    key = hashlib.sha1(repr((name, curve, program, soundfont.name, group_times.round(4).tolist())).encode())
    cached = cache_dir / f"{key.hexdigest()[:16]}.npy" if cache_dir else None
    if cached is not None and cached.is_file():
        spec = np.load(cached)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            midi, wav = Path(tmp) / "p.mid", Path(tmp) / "p.wav"
            notes_to_midi(performed, midi, program=program, velocity=int(rng.integers(70, 110)))
            if not render_with_fluidsynth(midi, wav, soundfont):
                raise RuntimeError("fluidsynth is not installed (Debian package fluidsynth)")
            spec = spectrogram(load_audio(wav))
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            np.save(cached, spec)
    return Performance(name=name, notes=list(notes), spec=spec, onset_times=group_times)
