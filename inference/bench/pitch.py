"""Pitch trackers compared on real melodies, and the polyphonic path on real piano performances.

    python -m inference.bench.pitch [--json] [--quick]

Monophonic: Nottingham melodies (../shared/data) rendered with FluidSynth on several General MIDI
instruments, clean and with added noise at 10 dB SNR. Ground truth per 20 ms hop is the MIDI note sounding
at the hop's centre (hops within 40 ms of a note boundary are not scored). Scores per tracker: raw pitch
accuracy (truly voiced hops whose estimate is within 50 cents), raw chroma accuracy (octave errors
forgiven), voicing recall and false alarm, and compute per 20 ms hop (streaming trackers are timed hop by
hop; offline ones as total time / hops).

Polyphonic: Vienna 4x22 performances (real human timing and chords) rendered from their performance MIDI;
basic-pitch's notes are scored against the MIDI notes: a note is found when a transcribed note of the same
pitch starts within 50 ms (each used once). Chord notes are the notes that start within 30 ms of another.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from inference.audio import load_audio
from inference.bench.midi_notes import MidiNote, read_midi_notes
from inference.synth import notes_to_midi, render_with_fluidsynth
from inference.types import HOP_SAMPLES, HOP_SECONDS, SAMPLE_RATE, ScoreNote

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SOUNDFONT = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
PIANO_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
PROGRAMS = {"flute": 73, "violin": 40, "clarinet": 71, "trumpet": 56, "voice": 52}
MELODY_SECONDS = 12.0
NOISE_SNR_DB = 10.0
BOUNDARY_S = 0.04
ONSET_TOLERANCE_S = 0.05


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- monophonic -------------------------------------------------------------------------------------------


def nottingham_melodies(count: int) -> list[tuple[str, list[ScoreNote]]]:
    """The first ``count`` melodies (alphabetical, one per tune family) cut to 12 s, as ScoreNotes."""
    folder = DATA / "nottingham" / "MIDI" / "melody"
    files = sorted(folder.glob("*.mid"))
    families: dict[str, Path] = {}
    for path in files:
        families.setdefault(path.stem.rstrip("0123456789"), path)
    chosen = list(families.values())[:: max(1, len(families) // count)][:count]
    melodies = []
    for path in chosen:
        notes = [n for n in read_midi_notes(path) if n.onset_s < MELODY_SECONDS]
        melodies.append((path.stem, [_score_note(i, n) for i, n in enumerate(notes)]))
    return melodies


def _score_note(i: int, note: MidiNote) -> ScoreNote:
    return ScoreNote(f"n{i}", note.onset_s * 2, note.onset_s, note.duration_s * 2, note.duration_s, note.midi, 1, 1.0)


def truth_per_hop(notes: Sequence[ScoreNote], n_hops: int) -> np.ndarray:
    """MIDI pitch sounding at each hop centre; 0 = silence; NaN = too near a boundary to score."""
    centres = (np.arange(n_hops) + 0.5) * HOP_SECONDS
    truth = np.zeros(n_hops)
    for note in notes:
        start, end = note.onset_s, note.onset_s + note.duration_s
        truth[(centres >= start - BOUNDARY_S) & (centres < end + 0.15)] = np.nan
    for note in notes:
        start, end = note.onset_s, note.onset_s + note.duration_s
        inside = (centres >= start + BOUNDARY_S) & (centres < end - BOUNDARY_S)
        truth[inside] = np.where(np.isnan(truth[inside]) | (truth[inside] == 0), note.midi, np.nan)
    return truth


def add_noise(audio: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(len(audio))
    pink = np.fft.irfft(np.fft.rfft(white) / np.sqrt(np.maximum(np.arange(len(white) // 2 + 1), 1)), len(white))
    signal_rms = float(np.sqrt(np.mean(audio[np.abs(audio) > 1e-4] ** 2))) if np.any(np.abs(audio) > 1e-4) else 0.1
    pink *= signal_rms / 10 ** (snr_db / 20) / max(float(np.sqrt(np.mean(pink**2))), 1e-12)
    return (audio + pink).astype(np.float32)


def streaming(factory: Callable[[], Any], latency_s: float) -> Callable[[np.ndarray], tuple[np.ndarray, float]]:
    """Run a ``tracker(hop) -> PitchFrame`` hop by hop; estimates are re-timed by the tracker's latency."""

    def run(audio: np.ndarray) -> tuple[np.ndarray, float]:
        tracker = factory()
        shift = int(round(latency_s * SAMPLE_RATE)) - HOP_SAMPLES // 2
        padded = np.concatenate([audio[shift:], np.zeros(shift + HOP_SAMPLES, dtype=np.float32)])
        n_hops = len(audio) // HOP_SAMPLES
        f0 = np.zeros(n_hops)
        began = time.perf_counter()
        for i in range(n_hops):
            f0[i] = tracker(padded[i * HOP_SAMPLES : (i + 1) * HOP_SAMPLES]).f0_hz
        return f0, (time.perf_counter() - began) * 1000 / n_hops

    return run


def offline(method: str) -> Callable[[np.ndarray], tuple[np.ndarray, float]]:
    def run(audio: np.ndarray) -> tuple[np.ndarray, float]:
        from inference.pitch.offline import pitch_track

        began = time.perf_counter()
        track = pitch_track(audio, method)
        return track.f0_hz, (time.perf_counter() - began) * 1000 / max(len(track.f0_hz), 1)

    return run


def trackers() -> dict[str, Callable[[np.ndarray], tuple[np.ndarray, float]]]:
    from inference.pitch.crepe import WINDOW, CrepeTracker
    from inference.pitch.yin import YinConfig, YinTracker

    yin_latency = YinConfig().window / 2 / SAMPLE_RATE
    return {
        "yin": streaming(YinTracker, yin_latency),
        "crepe_tiny": streaming(CrepeTracker, WINDOW / 2 / SAMPLE_RATE),
        "crepe_tiny_offline": offline("crepe-tiny"),
        "pyin_offline": offline("pyin"),
    }


def score_pitch(f0: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    n = min(len(f0), len(truth))
    f0, truth = f0[:n], truth[:n]
    voiced_truth = np.nan_to_num(truth) > 0
    silent_truth = truth == 0
    est_midi = np.where(f0 > 0, 69 + 12 * np.log2(np.maximum(f0, 1e-9) / 440.0), np.nan)
    cents = (est_midi - np.nan_to_num(truth)) * 100
    chroma = (cents + 600) % 1200 - 600
    return {
        "voiced_hops": int(voiced_truth.sum()),
        "rpa_hits": int(np.sum(voiced_truth & (np.abs(np.nan_to_num(cents, nan=1e9)) <= 50))),
        "rca_hits": int(np.sum(voiced_truth & (np.abs(np.nan_to_num(chroma, nan=1e9)) <= 50))),
        "voiced_found": int(np.sum(voiced_truth & (f0 > 0))),
        "silent_hops": int(silent_truth.sum()),
        "false_alarms": int(np.sum(silent_truth & (f0 > 0))),
    }


def monophonic(count: int, programs: Sequence[str], workdir: Path) -> dict[str, Any]:
    runners = trackers()
    totals: dict[str, dict[str, dict[str, float]]] = {}
    cost: dict[str, list[float]] = {name: [] for name in runners}
    for m, (name, notes) in enumerate(nottingham_melodies(count)):
        for program in programs:
            midi, wav = workdir / f"{name}.mid", workdir / f"{name}-{program}.wav"
            notes_to_midi(notes, midi, program=PROGRAMS[program])
            render_with_fluidsynth(midi, wav, SOUNDFONT)
            clean = load_audio(wav)
            truth = truth_per_hop(notes, len(clean) // HOP_SAMPLES)
            for condition, audio in (("clean", clean), ("noisy", add_noise(clean, NOISE_SNR_DB, seed=m))):
                for tracker, run in runners.items():
                    f0, ms = run(audio)
                    cost[tracker].append(ms)
                    counts = score_pitch(f0, truth)
                    bucket = totals.setdefault(tracker, {}).setdefault(condition, {})
                    for key, value in counts.items():
                        bucket[key] = bucket.get(key, 0) + value
            log(f"pitch: {name} {program} done")
    result: dict[str, Any] = {}
    for tracker, conditions in totals.items():
        row: dict[str, float] = {"ms_per_hop": round(float(np.median(cost[tracker])), 3)}
        for condition, c in conditions.items():
            suffix = "" if condition == "clean" else "_noisy"
            row["rpa" + suffix] = round(c["rpa_hits"] / max(c["voiced_hops"], 1), 4)
            row["rca" + suffix] = round(c["rca_hits"] / max(c["voiced_hops"], 1), 4)
            row["voicing_recall" + suffix] = round(c["voiced_found"] / max(c["voiced_hops"], 1), 4)
            row["voicing_false_alarm" + suffix] = round(c["false_alarms"] / max(c["silent_hops"], 1), 4)
        result[tracker] = row
    return result


# -- polyphonic -------------------------------------------------------------------------------------------


def match_notes(truth: Sequence[MidiNote], found: Sequence[Any]) -> list[bool]:
    """For each true note, whether a found note of the same pitch starts within 50 ms (each used once)."""
    used = [False] * len(found)
    hits = []
    for note in truth:
        best, best_dt = -1, ONSET_TOLERANCE_S
        for j, event in enumerate(found):
            dt = abs(event.onset_s - note.onset_s)
            if not used[j] and event.midi == note.midi and dt <= best_dt:
                best, best_dt = j, dt
        if best >= 0:
            used[best] = True
        hits.append(best >= 0)
    return hits


def chord_members(notes: Sequence[MidiNote]) -> list[bool]:
    onsets = np.array([n.onset_s for n in notes])
    return [bool(np.sum(np.abs(onsets - n.onset_s) <= 0.03) > 1) for n in notes]


def polyphonic(performances: int, seconds: float, workdir: Path, pieces: int = 5) -> dict[str, Any]:
    from inference.pitch.basic_pitch import transcribe

    files = sorted((DATA / "vienna4x22" / "midi").glob("*_p0[1-9].mid"))
    by_piece: dict[str, list[Path]] = {}
    for path in files:
        by_piece.setdefault(path.stem.rsplit("_p", 1)[0], []).append(path)
    chosen = [path for group in list(by_piece.values())[:pieces] for path in group[:performances]]
    tp = fp = n_truth = chord_hits = n_chord = 0
    audio_s = compute_s = 0.0
    for path in chosen:
        truth = [n for n in read_midi_notes(path) if n.onset_s < seconds]
        wav = workdir / f"{path.stem}.wav"
        render_with_fluidsynth(path, wav, PIANO_SOUNDFONT)
        audio = load_audio(wav)[: int((seconds + 1.0) * SAMPLE_RATE)]
        began = time.perf_counter()
        found = [e for e in transcribe(audio) if e.onset_s < seconds - 0.1]
        compute_s += time.perf_counter() - began
        audio_s += len(audio) / SAMPLE_RATE
        hits = match_notes(truth, found)
        truth_in_range = [n for n in truth if n.onset_s < seconds - 0.1]
        tp += sum(h for h, n in zip(hits, truth, strict=True) if n.onset_s < seconds - 0.1)
        n_truth += len(truth_in_range)
        fp += len(found) - sum(hits)
        members = chord_members(truth)
        chord_hits += sum(h for h, c, n in zip(hits, members, truth, strict=True) if c and n.onset_s < seconds - 0.1)
        n_chord += sum(c for c, n in zip(members, truth, strict=True) if n.onset_s < seconds - 0.1)
        log(f"poly: {path.stem} recall so far {tp / max(n_truth, 1):.3f}")
    precision = tp / max(tp + fp, 1)
    recall = tp / max(n_truth, 1)
    return {
        "basic_pitch": {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(2 * precision * recall / max(precision + recall, 1e-9), 4),
            "chord_note_recall": round(chord_hits / max(n_chord, 1), 4),
            "notes": n_truth,
            "chord_notes": n_chord,
            "real_time_factor": round(compute_s / max(audio_s, 1e-9), 4),
        }
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    parser.add_argument("--quick", action="store_true", help="2 melodies on one instrument, 2 piano performances")
    args = parser.parse_args(argv)
    from inference import runtime

    with tempfile.TemporaryDirectory(prefix="etude-bench-pitch-") as tmp:
        workdir = Path(tmp)
        if args.quick:
            mono = monophonic(2, ["violin"], workdir)
            poly = polyphonic(1, 15.0, workdir, pieces=2)
        else:
            mono = monophonic(6, ["flute", "violin", "voice"], workdir)
            poly = polyphonic(3, 30.0, workdir)
    result = {
        "benchmark": "pitch",
        "machine": f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}".strip(),
        "runtime": runtime.describe(),
        "noise_snr_db": NOISE_SNR_DB,
        "summary": {"monophonic": mono, "polyphonic": poly},
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
