"""Test and benchmark audio: a deterministic additive synthesizer, MIDI writing and a FluidSynth wrapper.

``render_notes`` gives audio with exactly known onsets (for tests that must not depend on external tools);
``notes_to_midi`` + ``render_with_fluidsynth`` give realistic instrument sound from a General MIDI soundfont.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from inference.types import SAMPLE_RATE, ScoreNote

Timbre = Literal["flute", "string", "piano-ish"]


@dataclass(frozen=True)
class _Voice:
    """How one timbre is built: harmonic amplitudes, envelope times (s) and vibrato."""

    harmonic_decay: float
    n_harmonics: int
    attack_s: float
    release_s: float
    decay_per_s: float
    vibrato_cents: float
    breath: float


_VOICES: dict[str, _Voice] = {
    "flute": _Voice(
        harmonic_decay=0.45,
        n_harmonics=6,
        attack_s=0.03,
        release_s=0.04,
        decay_per_s=0.0,
        vibrato_cents=12.0,
        breath=0.01,
    ),
    "string": _Voice(
        harmonic_decay=0.8,
        n_harmonics=16,
        attack_s=0.04,
        release_s=0.05,
        decay_per_s=0.0,
        vibrato_cents=20.0,
        breath=0.004,
    ),
    "piano-ish": _Voice(
        harmonic_decay=0.6,
        n_harmonics=10,
        attack_s=0.004,
        release_s=0.08,
        decay_per_s=2.5,
        vibrato_cents=0.0,
        breath=0.0,
    ),
}


def make_melody(
    midis: Sequence[int],
    beats: Sequence[float],
    *,
    bpm: float = 100.0,
    beats_per_measure: int = 4,
    id_prefix: str = "n",
) -> list[ScoreNote]:
    """ScoreNotes for a melody given as MIDI pitches and lengths in quarter notes (tests and benchmarks)."""
    if len(midis) != len(beats):
        raise ValueError("midis and beats must have the same length")
    seconds_per_quarter = 60.0 / bpm
    notes: list[ScoreNote] = []
    onset_q = 0.0
    for i, (midi, length_q) in enumerate(zip(midis, beats, strict=True)):
        notes.append(
            ScoreNote(
                note_id=f"{id_prefix}{i}",
                onset_q=onset_q,
                onset_s=onset_q * seconds_per_quarter,
                duration_q=float(length_q),
                duration_s=float(length_q) * seconds_per_quarter,
                midi=int(midi),
                measure=int(onset_q // beats_per_measure) + 1,
                beat=onset_q % beats_per_measure + 1.0,
            )
        )
        onset_q += float(length_q)
    return notes


def render_notes(
    notes: Sequence[ScoreNote],
    *,
    tempo_factor: float = 1.0,
    sr: int = SAMPLE_RATE,
    timbre: Timbre = "flute",
    seed: int = 0,
    lead_in_s: float = 1.0,
    tail_s: float = 1.0,
    amplitude: float = 0.3,
) -> tuple[np.ndarray, list[float]]:
    """Render ``notes`` at ``tempo_factor`` × written tempo; returns (audio, true onset second of each note).

    Each note sounds for 92 % of its duration (so repeated pitches are re-attacked) with an attack/decay/
    release envelope, slightly random phases and levels, and a slow vibrato; deterministic for a ``seed``.
    """
    if tempo_factor <= 0:
        raise ValueError(f"tempo_factor must be positive, got {tempo_factor}")
    if timbre not in _VOICES:
        raise ValueError(f"unknown timbre {timbre!r}; choose one of {sorted(_VOICES)}")
    voice = _VOICES[timbre]
    rng = np.random.default_rng(seed)
    onsets = [lead_in_s + n.onset_s / tempo_factor for n in notes]
    ends = (onset + n.duration_s / tempo_factor for onset, n in zip(onsets, notes, strict=True))
    end_s = max(ends, default=lead_in_s)
    out = np.zeros(int(np.ceil((end_s + tail_s) * sr)) + 1, dtype=np.float64)
    for onset, note in zip(onsets, notes, strict=True):
        sounding_s = max(0.9 * note.duration_s / tempo_factor, 0.03)
        start = int(round(onset * sr))
        n_samples = int((sounding_s + voice.release_s) * sr)
        tone = _tone(note.midi, n_samples, sounding_s, sr, voice, rng)
        stop = min(start + n_samples, len(out))
        out[start:stop] += amplitude * rng.uniform(0.8, 1.0) * tone[: stop - start]
    if voice.breath > 0:
        out += voice.breath * amplitude * rng.standard_normal(len(out))
    return out.astype(np.float32), onsets


def _tone(midi: int, n_samples: int, sounding_s: float, sr: int, voice: _Voice, rng: np.random.Generator) -> np.ndarray:
    """One note: harmonic partials with vibrato under an attack/decay/release envelope."""
    t = np.arange(n_samples) / sr
    f0 = 440.0 * 2.0 ** ((midi - 69) / 12.0)
    vibrato = voice.vibrato_cents * np.sin(2 * np.pi * rng.uniform(4.5, 6.0) * t + rng.uniform(0, 2 * np.pi))
    # Vibrato fades in so the attack has a stable pitch, as players do.
    vibrato *= np.clip(t / 0.25, 0.0, 1.0)
    inst_f = f0 * 2.0 ** (vibrato / 1200.0)
    phase = 2 * np.pi * np.cumsum(inst_f) / sr
    tone = np.zeros(n_samples)
    for k in range(1, voice.n_harmonics + 1):
        if k * f0 >= 0.45 * sr:
            break
        tone += voice.harmonic_decay ** (k - 1) * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    tone /= max(np.max(np.abs(tone)), 1e-9)
    envelope = np.minimum(1.0, t / voice.attack_s) * np.exp(-voice.decay_per_s * t)
    release = np.clip(1.0 - (t - sounding_s) / voice.release_s, 0.0, 1.0)
    shaped: np.ndarray = tone * envelope * release
    return shaped


def notes_to_midi(
    notes: Sequence[ScoreNote],
    path: str | Path,
    tempo_factor: float = 1.0,
    program: int = 73,
    velocity: int = 90,
) -> None:
    """Write a format-0 Standard MIDI File playing ``notes`` (seconds / tempo_factor) on GM ``program``.

    Timing comes from ``onset_s``/``duration_s`` so the MIDI file reproduces the written tempo exactly
    (120 bpm with 480 ticks per quarter, i.e. 960 ticks per second). 73 is the GM flute.
    """
    ticks_per_quarter, ticks_per_second = 480, 960.0
    events: list[tuple[int, int, bytes]] = []  # (tick, order, message); note-offs sort before note-ons
    for note in notes:
        on = int(round(note.onset_s / tempo_factor * ticks_per_second))
        off = max(on + 1, int(round((note.onset_s + note.duration_s) / tempo_factor * ticks_per_second)))
        pitch = int(np.clip(note.midi, 0, 127))
        events.append((on, 1, bytes([0x90, pitch, int(np.clip(velocity, 1, 127))])))
        events.append((off, 0, bytes([0x80, pitch, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    track = bytearray()
    track += _varlen(0) + b"\xff\x51\x03" + (500_000).to_bytes(3, "big")  # 120 bpm
    track += _varlen(0) + bytes([0xC0, int(np.clip(program, 0, 127))])
    last = 0
    for tick, _, message in events:
        track += _varlen(tick - last) + message
        last = tick
    track += _varlen(0) + b"\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, ticks_per_quarter)
    Path(path).write_bytes(header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track))


def _varlen(value: int) -> bytes:
    """MIDI variable-length quantity."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def fluidsynth_available() -> bool:
    """Whether the ``fluidsynth`` command-line synthesizer is on PATH."""
    return shutil.which("fluidsynth") is not None


def render_with_fluidsynth(
    midi_path: str | Path, wav_path: str | Path, soundfont: str | Path, sr: int = SAMPLE_RATE
) -> bool:
    """Render a MIDI file to WAV with the FluidSynth CLI; False when fluidsynth is not installed.

    Raises ``FileNotFoundError`` for a missing soundfont or MIDI file and ``RuntimeError`` when fluidsynth
    fails, with its output in the message.
    """
    exe = shutil.which("fluidsynth")
    if exe is None:
        return False
    for required in (midi_path, soundfont):
        if not Path(required).is_file():
            raise FileNotFoundError(f"no such file: {required}")
    cmd = [exe, "-ni", "-q", "-F", str(wav_path), "-r", str(sr), str(soundfont), str(midi_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 or not Path(wav_path).is_file():
        raise RuntimeError(f"fluidsynth failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return True
