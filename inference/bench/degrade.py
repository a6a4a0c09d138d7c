"""Degraded versions of benchmark performances: a room and noise, wrong notes, a restart, skipped bars.

Audio-level changes (room + noise, restart, skip) work on any recording, the real K265 included; the truth
moves with the audio. Wrong notes are changed in the performance MIDI before rendering (every ~10th note
moves by 1-2 semitones), the truth stays: the note is still played at that time, only wrongly.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from inference.audio import write_wav
from inference.bench.performances import LEAD_IN_S, Performance, cache_dir, render_midi
from inference.following.onsets import group_onsets
from inference.types import SAMPLE_RATE

RESTART_PAUSE_S = 0.6
NOISE_SNR_DB = 20.0
ROOM_RT60_S = 0.5


def _saved(perf: Performance, variant: str, audio: np.ndarray, truth: np.ndarray) -> Performance:
    path = cache_dir("degraded") / f"{perf.dataset}-{perf.name}-{variant}.wav"
    if not path.is_file():
        write_wav(path, audio / max(1.0, float(np.max(np.abs(audio))) / 0.95))
    return replace(perf, dataset="degraded", name=f"{perf.name}-{variant}", audio_path=path, truth=truth,
                   variant=variant)


def room_and_noise(perf: Performance, seed: int = 0) -> Performance:
    """Convolve with a synthetic room (exponentially decaying noise tail) and add noise at 20 dB SNR."""
    from scipy.signal import fftconvolve, lfilter

    rng = np.random.default_rng(seed)
    audio = perf.audio()
    n = int(ROOM_RT60_S * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / ROOM_RT60_S) * 0.3
    tail[0] = 1.0
    wet = fftconvolve(audio, tail)[: len(audio)]
    noise = lfilter([1.0], [1.0, -0.95], rng.standard_normal(len(wet)))  # brownish: room rumble and hiss
    signal_rms = float(np.sqrt(np.mean(wet[wet != 0] ** 2)))
    noise *= signal_rms / float(np.sqrt(np.mean(noise**2))) * 10 ** (-NOISE_SNR_DB / 20)
    return _saved(perf, "noise", (wet + noise).astype(np.float32), perf.truth.copy())


def _bar_start(perf: Performance, measure: int) -> tuple[int, float]:
    """First onset group of ``measure`` (or later) that was played, and its performed time."""
    for group in group_onsets(perf.notes):
        if group.measure >= measure and np.isfinite(perf.truth[group.index]):
            return group.index, float(perf.truth[group.index])
    raise ValueError(f"{perf.name} has no played notes from bar {measure}")


def _bars(perf: Performance) -> tuple[int, int]:
    measures = [g.measure for g in group_onsets(perf.notes) if np.isfinite(perf.truth[g.index])]
    return min(measures), max(measures)


def restart(perf: Performance, back_bars: int = 3) -> Performance:
    """Stop at the bar ~60 % through, pause, start again ``back_bars`` earlier and play on to the end."""
    first, last = _bars(perf)
    stop_bar = first + int(0.6 * (last - first))
    _, stop_s = _bar_start(perf, stop_bar)
    _, again_s = _bar_start(perf, max(first, stop_bar - back_bars))
    audio = perf.audio()
    cut, resume = int((stop_s - 0.05) * SAMPLE_RATE), int((again_s - 0.3) * SAMPLE_RATE)
    pause = np.zeros(int(RESTART_PAUSE_S * SAMPLE_RATE), np.float32)
    spliced = np.concatenate((audio[:cut], pause, audio[resume:]))
    shift = (cut + len(pause) - resume) / SAMPLE_RATE
    truth = np.where(perf.truth < stop_s - 0.05, perf.truth, perf.truth + shift)
    return _saved(perf, "restart", spliced, truth)


def skip(perf: Performance, bars: int = 2) -> Performance:
    """Leave out ``bars`` bars about 40 % through (those notes are never played)."""
    first, last = _bars(perf)
    skip_bar = first + max(1, int(0.4 * (last - first)))
    _, cut_s = _bar_start(perf, skip_bar)
    _, resume_s = _bar_start(perf, skip_bar + bars)
    audio = perf.audio()
    cut, resume = int((cut_s - 0.05) * SAMPLE_RATE), int((resume_s - 0.05) * SAMPLE_RATE)
    spliced = np.concatenate((audio[:cut], audio[resume:]))
    shift = (cut - resume) / SAMPLE_RATE
    truth = np.where(perf.truth < cut_s - 0.05, perf.truth, perf.truth + shift)
    truth[(perf.truth >= cut_s - 0.05) & (perf.truth < resume_s - 0.05)] = np.nan
    return _saved(perf, "skip", spliced, truth)


def wrong_notes(perf: Performance, midi_path: Path, every: int = 10, seed: int = 0) -> Performance:
    """Re-render ``midi_path`` with every ~``every``-th note moved by 1-2 semitones."""
    out = cache_dir("degraded") / f"{perf.dataset}-{perf.name}-wrong.mid"
    wav = out.with_suffix(".wav")
    if not wav.is_file():
        out.write_bytes(_detune_midi(midi_path.read_bytes(), every, np.random.default_rng(seed)))
    lead_in = LEAD_IN_S if perf.dataset == "vienna" else 0.0  # Nottingham MIDI already starts with it
    render_midi(out, wav, lead_in_s=lead_in)
    return replace(perf, dataset="degraded", name=f"{perf.name}-wrong", audio_path=wav, variant="wrong")


def _varlen(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    while True:
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos


def _detune_midi(data: bytes, every: int, rng: np.random.Generator) -> bytes:
    """Change the key of every ~``every``-th note-on (and its note-off) in a Standard MIDI File."""
    out = bytearray(data)
    pos = 14
    count = 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos + 4 : pos + 8], "big")
        if data[pos : pos + 4] == b"MTrk":
            count = _detune_track(out, pos + 8, pos + 8 + size, every, rng, count)
        pos += 8 + size
    return bytes(out)


def _detune_track(out: bytearray, pos: int, end: int, every: int, rng: np.random.Generator, count: int) -> int:
    moved: dict[tuple[int, int], list[int]] = {}
    status = 0
    while pos < end:
        _, pos = _varlen(out, pos)
        if out[pos] >= 0x80:
            status = out[pos]
            pos += 1
        kind = status & 0xF0
        if status == 0xFF:
            length, pos = _varlen(out, pos + 1)
            pos += length
        elif status in (0xF0, 0xF7):
            length, pos = _varlen(out, pos)
            pos += length
        elif kind in (0x80, 0x90):
            key, velocity = out[pos], out[pos + 1]
            channel_key = (status & 0x0F, key)
            if kind == 0x90 and velocity > 0:
                count += 1
                offset = int(rng.choice([-2, -1, 1, 2])) if count % every == 0 else 0
                moved.setdefault(channel_key, []).append(offset)
                out[pos] = int(np.clip(key + offset, 0, 127))
            elif moved.get(channel_key):
                out[pos] = int(np.clip(key + moved[channel_key].pop(0), 0, 127))
            pos += 2
        elif kind in (0xC0, 0xD0):
            pos += 1
        else:
            pos += 2
    return count
