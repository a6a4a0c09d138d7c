"""Whole-recording pitch tracks for offline work (the take's final alignment and the pitch benchmark).

``pitch_track(audio, method)`` returns one value per 20 ms hop, each describing the middle of its hop:
- ``yin``: the streaming ``YinTracker`` run over the recording (the live path's tracker);
- ``pyin``: librosa's probabilistic YIN (Mauch & Dixon, ICASSP 2014) with its Viterbi smoothing;
- ``crepe-tiny``: CREPE's shipped tiny weights as ONNX (see ``inference.pitch.crepe``).
``onset_strength`` is a non-causal spectral-flux onset function on the same hops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.types import HOP_SAMPLES, HOP_SECONDS, SAMPLE_RATE

METHODS = ("yin", "pyin", "crepe-tiny")
FMIN_HZ = 60.0
FMAX_HZ = 2100.0
SILENCE_RMS = 1e-3
"""Hops quieter than this (about -60 dBFS) are unvoiced whatever the tracker says, as in the live tracker."""


@dataclass(frozen=True)
class PitchTrack:
    """Per-hop arrays: ``times`` are hop centres (s); ``f0_hz`` is 0 where unvoiced."""

    times: np.ndarray
    f0_hz: np.ndarray
    voicing: np.ndarray
    rms: np.ndarray


def pitch_track(audio: np.ndarray, method: str = "pyin") -> PitchTrack:
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    n_hops = len(audio) // HOP_SAMPLES
    if method == "yin":
        f0, voicing = _yin(audio, n_hops)
    elif method == "pyin":
        f0, voicing = _pyin(audio, n_hops)
    elif method == "crepe-tiny":
        from inference.pitch.crepe import crepe_track

        f0, voicing = crepe_track(audio, "tiny")
    else:
        raise ValueError(f"unknown pitch method {method!r}; choose one of {METHODS}")
    hops = audio[: n_hops * HOP_SAMPLES].reshape(n_hops, HOP_SAMPLES).astype(np.float64)
    rms = np.sqrt(np.mean(hops * hops, axis=1))
    f0 = np.where(rms >= SILENCE_RMS, f0, 0.0)
    times = (np.arange(n_hops) + 0.5) * HOP_SECONDS
    return PitchTrack(times=times, f0_hz=np.asarray(f0, dtype=float), voicing=np.asarray(voicing, dtype=float), rms=rms)


def _yin(audio: np.ndarray, n_hops: int) -> tuple[np.ndarray, np.ndarray]:
    from inference.pitch.yin import YinTracker

    tracker = YinTracker()
    # The tracker's window ends at the newest sample; its estimate describes ~half a window back, so the
    # audio is advanced by that much to centre the estimates on the hops.
    lead = tracker.config.window // 2 - HOP_SAMPLES // 2
    shifted = np.concatenate([audio[lead:], np.zeros(lead + HOP_SAMPLES, dtype=np.float32)])
    f0 = np.zeros(n_hops)
    voicing = np.zeros(n_hops)
    for i in range(n_hops):
        frame = tracker(shifted[i * HOP_SAMPLES : (i + 1) * HOP_SAMPLES])
        f0[i], voicing[i] = frame.f0_hz, frame.voicing
    return f0, voicing


def _pyin(audio: np.ndarray, n_hops: int) -> tuple[np.ndarray, np.ndarray]:
    import librosa

    # librosa centres frame i on sample i * hop; shifting by half a hop centres it on hop i.
    shifted = np.concatenate([audio[HOP_SAMPLES // 2 :], np.zeros(HOP_SAMPLES, dtype=np.float32)])
    f0, is_voiced, probability = librosa.pyin(
        shifted, fmin=FMIN_HZ, fmax=FMAX_HZ, sr=SAMPLE_RATE, frame_length=1024, hop_length=HOP_SAMPLES
    )
    f0 = np.where(is_voiced & np.isfinite(f0), f0, 0.0)[:n_hops]
    probability = np.nan_to_num(probability)[:n_hops]
    return np.pad(f0, (0, n_hops - len(f0))), np.pad(probability, (0, n_hops - len(probability)))


N_ONSET_BANDS = 48
ONSET_NFFT = 1024


def onset_strength(audio: np.ndarray) -> np.ndarray:
    """Per-hop onset strength, 0..1, centred on the hops like ``pitch_track``: the positive rise of log band
    energies (48 log-spaced bands, 60 Hz to 7.6 kHz) over two half-hops, each band compared with the
    maximum of its neighbours a moment earlier so vibrato does not count (Böck & Widmer's SuperFlux,
    DAFx 2013)."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    n_hops = len(audio) // HOP_SAMPLES
    if n_hops == 0:
        return np.zeros(0)
    step = HOP_SAMPLES // 2
    padded = np.pad(audio, (ONSET_NFFT // 2, ONSET_NFFT))
    n_frames = 2 * n_hops + 1
    index = np.arange(n_frames)[:, None] * step + np.arange(ONSET_NFFT)[None, :]
    # Sub-frame k is centred on sample k * step; hop i's centre is sub-frame 2 i + 1.
    spectrum = np.abs(np.fft.rfft(padded[index] * np.hanning(ONSET_NFFT), axis=1)) ** 2
    freqs = np.fft.rfftfreq(ONSET_NFFT, 1.0 / SAMPLE_RATE)
    edges = np.geomspace(60.0, 7600.0, N_ONSET_BANDS + 1)
    band = np.searchsorted(edges, freqs) - 1
    valid = (band >= 0) & (band < N_ONSET_BANDS)
    energy = np.zeros((n_frames, N_ONSET_BANDS))
    for b in range(N_ONSET_BANDS):
        columns = valid & (band == b)
        if columns.any():
            energy[:, b] = spectrum[:, columns].sum(axis=1)
    log_energy = 10.0 * np.log10(energy + 1e-10)
    widened = np.maximum(log_energy, np.maximum(np.roll(log_energy, 1, axis=1), np.roll(log_energy, -1, axis=1)))
    flux = np.zeros(n_frames)
    flux[2:] = np.mean(np.clip(log_energy[2:] - widened[:-2], 0.0, None), axis=1)
    per_hop = np.maximum(flux[1:-1:2], flux[2::2])[:n_hops]
    scale = float(np.percentile(per_hop, 99))
    return np.clip(per_hop / scale, 0.0, 1.0) if scale > 0 else np.zeros(n_hops)
