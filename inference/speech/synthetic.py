"""Test and benchmark audio for voice commands: espeak-ng speech, noise, and rendered instrument music.

``speak`` needs the ``espeak-ng`` command (Debian package); ``render_tune`` needs FluidSynth and a General
MIDI soundfont (see ``inference.synth``). Everything is deterministic for a given seed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from inference.types import SAMPLE_RATE

SPEECH_RMS = 0.05
"""Level every spoken command is normalised to (about -26 dBFS), before mixing."""
TRIM_THRESHOLD = 0.01
ONSET_MARGIN_S = 0.03


class ToolMissing(RuntimeError):
    """A command-line tool the synthetic audio needs is not installed."""


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def speak(text: str, voice: str = "en-us", rate_wpm: int = 160) -> np.ndarray:
    """``text`` spoken by espeak-ng as 16 kHz float32, trimmed to the speech and normalised to ``SPEECH_RMS``."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise ToolMissing("espeak-ng is not installed (apt-get install espeak-ng)")
    from inference.audio import load_audio

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        proc = subprocess.run(
            [exe, "-v", voice, "-s", str(rate_wpm), "-w", str(wav), text], capture_output=True, text=True, timeout=60
        )
        if proc.returncode != 0 or not wav.is_file():
            raise RuntimeError(f"espeak-ng failed for voice {voice!r}: {proc.stderr.strip()}")
        audio = load_audio(wav)
    return normalise(trim(audio))


def trim(audio: np.ndarray, threshold: float = TRIM_THRESHOLD) -> np.ndarray:
    """Cut the silence espeak-ng leaves around speech, so the end of speech is known to the sample.

    The start keeps ``ONSET_MARGIN_S`` before the first loud sample (a soft plosive must not be clipped); the
    end is the last sample above a tenth of ``threshold``, i.e. the very tail of the last sound.
    """
    peak = max(float(np.max(np.abs(audio))), 1e-9) if audio.size else 1.0
    loud = np.flatnonzero(np.abs(audio) >= threshold * peak)
    if not loud.size:
        return audio[:0]
    audible = np.flatnonzero(np.abs(audio) >= threshold * peak / 10)
    start = max(0, loud[0] - int(ONSET_MARGIN_S * SAMPLE_RATE))
    return audio[start : audible[-1] + 1]


def normalise(audio: np.ndarray, rms: float = SPEECH_RMS) -> np.ndarray:
    level = float(np.sqrt(np.mean(np.square(audio)))) if audio.size else 0.0
    return (audio * (rms / level)).astype(np.float32) if level > 0 else audio.astype(np.float32)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS pink (1/f) noise: room rumble, fans and breath sit closer to this than to white noise."""
    spectrum = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    spectrum /= np.sqrt(np.maximum(np.arange(n // 2 + 1), 1.0))
    noise = np.fft.irfft(spectrum, n)
    return (noise / max(float(np.sqrt(np.mean(noise**2))), 1e-12)).astype(np.float32)


def mix_at(speech: np.ndarray, background: np.ndarray, offset: int, snr_db: float) -> np.ndarray:
    """``background`` with ``speech`` added at ``offset``, scaled so speech is ``snr_db`` above the background.

    The background's level is measured over the span the speech covers, so a quiet bar does not mislead.
    """
    out = background.astype(np.float32).copy()
    end = offset + len(speech)
    if end > len(out):
        raise ValueError("the background is shorter than offset + speech")
    span = out[offset:end]
    level = float(np.sqrt(np.mean(span**2))) if span.size else 0.0
    speech_level = float(np.sqrt(np.mean(speech**2)))
    if level > 0:
        out *= speech_level / (level * 10 ** (snr_db / 20))
    out[offset:end] += speech
    return out


def render_tune(midi_path: str | Path, program: int, soundfont: str | Path) -> np.ndarray:
    """A melody MIDI file played on General MIDI ``program`` through FluidSynth, as 16 kHz float32."""
    from inference.audio import load_audio
    from inference.scores import load_score
    from inference.synth import notes_to_midi, render_with_fluidsynth

    notes = load_score(Path(midi_path).read_bytes(), Path(midi_path).name).notes
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "tune.mid", Path(tmp) / "tune.wav"
        notes_to_midi(notes, mid, program=program)
        if not render_with_fluidsynth(mid, wav, soundfont):
            raise ToolMissing("fluidsynth is not installed (apt-get install fluidsynth)")
        return load_audio(wav)


def render_midi(midi_path: str | Path, soundfont: str | Path) -> np.ndarray:
    """A MIDI file (e.g. a recorded piano performance) rendered as it is, as 16 kHz float32."""
    from inference.audio import load_audio
    from inference.synth import render_with_fluidsynth

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "perf.wav"
        if not render_with_fluidsynth(midi_path, wav, soundfont):
            raise ToolMissing("fluidsynth is not installed (apt-get install fluidsynth)")
        return load_audio(wav)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * SAMPLE_RATE)), dtype=np.float32)
