"""Performances to train and test the agent on: a score, audio with a tempo curve, and the truth.

A performance warps the written timing with a global tempo factor, a slow sinusoidal modulation and onset
jitter (the original game's training data had plain tempo changes), is written as MIDI and rendered by
FluidSynth with a General MIDI instrument. The truth is the performed time of every onset group.
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


@dataclass(frozen=True)
class TempoCurve:
    """Performed tempo relative to the written one, as a function of score seconds."""

    factor: float
    depth: float
    period_s: float
    phase: float
    jitter_s: float

    def ratio(self, score_s: np.ndarray) -> np.ndarray:
        return self.factor * (1.0 + self.depth * np.sin(2 * np.pi * score_s / self.period_s + self.phase))

    def performed_times(self, score_s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Performed seconds of score times ``score_s`` (sorted): the integral of 1 / ratio, plus jitter."""
        grid = np.linspace(0.0, float(score_s.max()) + 1.0, 4096)
        dt = np.diff(grid, prepend=0.0) / self.ratio(grid)
        times = np.interp(score_s, grid, np.cumsum(dt))
        times = times + rng.normal(0.0, self.jitter_s, size=times.shape)
        return np.maximum.accumulate(np.maximum(times, 0.0))


def random_curve(rng: np.random.Generator, *, factor_range: tuple[float, float] = (0.8, 1.25)) -> TempoCurve:
    low, high = np.log(factor_range[0]), np.log(factor_range[1])
    return TempoCurve(
        factor=float(np.exp(rng.uniform(low, high))),
        depth=float(rng.uniform(0.0, 0.12)),
        period_s=float(rng.uniform(4.0, 12.0)),
        phase=float(rng.uniform(0.0, 2 * np.pi)),
        jitter_s=float(rng.uniform(0.0, 0.015)),
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
    group_times = curve.performed_times(score_s, rng) + lead_in_s
    by_onset = {round(g.onset_q, 6): t for g, t in zip(groups, group_times, strict=True)}
    performed = []
    for note in notes:
        onset = by_onset[round(note.onset_q, 6)]
        ratio = float(curve.ratio(np.array([note.onset_s]))[0])
        performed.append(dataclasses.replace(note, onset_s=onset, duration_s=note.duration_s / ratio))
    return performed, group_times


def render_performance(
    name: str,
    notes: Sequence[ScoreNote],
    rng: np.random.Generator,
    *,
    soundfont: Path,
    cache_dir: Path | None = None,
    programs: tuple[int, ...] | None = None,
) -> Performance:
    """Warp, render and analyse one performance (the spectrogram is cached by content when ``cache_dir``)."""
    curve = random_curve(rng)
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
