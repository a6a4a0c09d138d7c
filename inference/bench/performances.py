"""Test performances for the following benchmark, built once and cached under ``var/bench-cache/following``.

- ``nottingham``: folk melodies (../shared/data/nottingham ABC) played with tempo warps (a global factor in
  x0.8-1.25, a smooth sinusoidal modulation, per-onset jitter) and rendered with FluidSynth's FluidR3 GM
  soundfont on a few melody instruments. Followers are told the written tempo, so they must find the warp.
- ``vienna``: the Vienna 4x22 performance MIDI files rendered with FluidR3 (piano), truth from the match files.
- ``k265``: the real Mozart K265 recording, truth from its match file.
Followers (ours and the anchors) are told the written tempo for Nottingham and the performance's mean tempo
for the real performances, as a teacher would set it. A 1 s lead-in of silence precedes rendered audio.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from inference.audio import load_audio, write_wav
from inference.bench.matchfiles import group_truth, read_match
from inference.following.onsets import group_onsets
from inference.types import SAMPLE_RATE, ScoreNote

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CACHE = Path(os.environ.get("ETUDE_BENCH_CACHE", Path(__file__).resolve().parents[2] / "var" / "bench-cache"))
TEST_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
LEAD_IN_S = 1.0
CACHE_VERSION = "3"
MELODY_PROGRAMS = (73, 40, 71, 0, 68)
"""GM flute, violin, clarinet, acoustic grand piano, oboe."""
VIENNA_PIECES = ("Chopin_op10_no3", "Chopin_op38", "Mozart_K331_1st-mov", "Schubert_D783_no15")


@dataclass
class Performance:
    """One recording to follow, with the truth per onset group (audio seconds; NaN where not played)."""

    dataset: str
    name: str
    notes: list[ScoreNote]
    score_path: Path
    """MusicXML of exactly these notes, for the anchors."""
    audio_path: Path
    truth: np.ndarray
    tempo_factor: float
    score_bpm: float
    variant: str = "clean"

    def audio(self) -> np.ndarray:
        return load_audio(self.audio_path)


def cache_dir(*parts: str) -> Path:
    path = CACHE.joinpath("following", f"v{CACHE_VERSION}", *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def mean_tempo_factor(notes: Sequence[ScoreNote], truth: np.ndarray) -> float:
    """Written seconds over performed seconds between the first and last played onset groups."""
    onsets = np.array([g.onset_s for g in group_onsets(notes)])
    played = np.flatnonzero(np.isfinite(truth))
    first, last = played[0], played[-1]
    return float((onsets[last] - onsets[first]) / max(truth[last] - truth[first], 1e-3))


# -- scores -----------------------------------------------------------------------------------------------


def _save_score(folder: Path, stem: str, musicxml: str, notes: Sequence[ScoreNote], bpm: float) -> Path:
    (folder / f"{stem}.musicxml").write_text(musicxml, encoding="utf-8")
    (folder / f"{stem}.notes.json").write_text(
        json.dumps({"bpm": bpm, "notes": [n.to_dict() for n in notes]}), encoding="utf-8"
    )
    return folder / f"{stem}.musicxml"


def _load_saved(folder: Path, stem: str) -> tuple[list[ScoreNote], float] | None:
    path = folder / f"{stem}.notes.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return [ScoreNote.from_dict(n) for n in data["notes"]], float(data["bpm"])


def parse_abc_tune(text: str) -> tuple[list[ScoreNote], str, float]:
    """One ABC tune as notes + MusicXML; chord symbols (guitar chords) are accompaniment, not melody."""
    from music21 import converter, harmony

    from inference.scores import normalise

    score = converter.parseData(text, format="abc")
    for symbol in list(score.recurse().getElementsByClass(harmony.Harmony)):
        symbol.activeSite.remove(symbol)
    parsed = normalise(score, fmt="abc")  # type: ignore[arg-type]
    return parsed.notes, parsed.musicxml, parsed.tempo_bpm


def nottingham_tunes(count: int, seed: int = 2026) -> list[tuple[str, str]]:
    """``count`` (name, ABC text) tunes drawn reproducibly across the collection's files."""
    folder = DATA / "nottingham" / "ABC_cleaned"
    tunes: list[tuple[str, str]] = []
    for path in sorted(folder.glob("*.abc")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for i, chunk in enumerate(text.split("\nX:")[1:]):
            tunes.append((f"{path.stem}-{i + 1}", "X:" + chunk))
    order = np.random.default_rng(seed).permutation(len(tunes))
    return [tunes[i] for i in order[: 3 * count]]  # extra candidates: some are skipped as too short/long


# -- performances -----------------------------------------------------------------------------------------


def warp_onsets(groups_s: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Performed times of written onsets: global factor, smooth modulation, jitter; returns (times, factor)."""
    factor = float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
    depth = rng.uniform(0.05, 0.15)
    period = rng.uniform(6.0, 14.0)
    phase = rng.uniform(0, 2 * np.pi)
    grid = np.linspace(0.0, float(groups_s.max()) + 5.0, 4000)
    speed = factor * np.exp(depth * np.sin(2 * np.pi * grid / period + phase))
    elapsed = np.concatenate(([0.0], np.cumsum(np.diff(grid) / speed[:-1])))
    times = np.interp(groups_s, grid, elapsed)
    jitter = np.clip(rng.normal(0.0, 0.015, len(times)), -0.04, 0.04)
    gaps = np.diff(times, prepend=times[0] - 1.0)
    jitter = np.minimum(jitter, 0.3 * gaps)  # never swap two onsets
    return times + jitter, factor


def performed_notes(notes: Sequence[ScoreNote], rng: np.random.Generator) -> tuple[list[ScoreNote], float]:
    """``notes`` with onset_s/duration_s moved to a warped performance (lead-in included)."""
    written = np.array(sorted({n.onset_s for n in notes} | {n.onset_s + n.duration_s for n in notes}))
    performed, factor = warp_onsets(written, rng)
    to_perf = dict(zip(written.tolist(), performed.tolist(), strict=True))
    played = []
    for note in notes:
        start = to_perf[note.onset_s]
        end = to_perf[note.onset_s + note.duration_s]
        # Players articulate: a note sounds 85-98 % of its written length (repeated notes are re-attacked).
        sounding = (end - start) * rng.uniform(0.85, 0.98)
        played.append(replace(note, onset_s=LEAD_IN_S + start, duration_s=max(sounding, 0.05)))
    return played, factor


def render_midi(midi_path: Path, wav_path: Path, lead_in_s: float = 0.0) -> np.ndarray:
    """Render with FluidSynth and the test soundfont to mono 16 kHz (cached), optionally after a lead-in."""
    from inference.synth import render_with_fluidsynth

    if not wav_path.is_file():
        raw = wav_path.with_suffix(".raw.wav")
        if not render_with_fluidsynth(midi_path, raw, TEST_SOUNDFONT):
            raise RuntimeError("fluidsynth is not installed: the following benchmark needs it to render audio")
        audio = load_audio(raw)
        raw.unlink()
        audio = np.concatenate((np.zeros(int(lead_in_s * SAMPLE_RATE), np.float32), audio))
        # Rendered performance MIDI can be very quiet (soft velocities): bring the peak to -1 dBFS, as a
        # recording engineer would; the followers must still cope with level changes inside a piece.
        write_wav(wav_path, audio * (0.9 / max(float(np.max(np.abs(audio))), 1e-6)))
    return load_audio(wav_path)


def nottingham(count: int) -> list[Performance]:
    """``count`` warped, rendered Nottingham melodies (16-400 notes each)."""
    from inference.synth import notes_to_midi

    folder = cache_dir("nottingham")
    found: list[Performance] = []
    for index, (name, text) in enumerate(nottingham_tunes(count)):
        if len(found) == count:
            break
        saved = _load_saved(folder, name)
        if saved is None:
            try:
                notes, musicxml, bpm = parse_abc_tune(text)
            except Exception:  # some tunes of the collection do not parse; the draw just moves on
                continue
            _save_score(folder, name, musicxml, notes, bpm)
        else:
            notes, bpm = saved
        if not 16 <= len(notes) <= 400:
            continue
        rng = np.random.default_rng(1000 + index)
        played, factor = performed_notes(notes, rng)
        midi = folder / f"{name}.mid"
        notes_to_midi(played, midi, program=MELODY_PROGRAMS[index % len(MELODY_PROGRAMS)])
        render_midi(midi, folder / f"{name}.wav")
        groups = group_onsets(notes)
        first = {g.index: min(p.onset_s for p in played if p.note_id in g.note_ids) for g in groups}
        truth = np.array([first[g.index] for g in groups])
        perf = Performance("nottingham", name, notes, folder / f"{name}.musicxml", folder / f"{name}.wav", truth,
                           1.0, bpm)
        perf.variant = f"x{factor:.2f}"
        found.append(perf)
    return found


def _musicxml_notes(path: Path) -> tuple[list[ScoreNote], float]:
    from inference.scores import load_score

    folder = cache_dir("scores")
    saved = _load_saved(folder, path.stem)
    if saved is not None:
        return saved
    parsed = load_score(path.read_bytes(), path.name)
    _save_score(folder, path.stem, parsed.musicxml, parsed.notes, parsed.tempo_bpm)
    return parsed.notes, parsed.tempo_bpm


def vienna(performers: Sequence[int]) -> list[Performance]:
    """The four Vienna 4x22 pieces by the given performers (1-11), rendered from their performance MIDI."""
    root = DATA / "vienna4x22"
    folder = cache_dir("vienna")
    found = []
    for piece in VIENNA_PIECES:
        score_path = root / "musicxml" / f"{piece}.musicxml"
        notes, bpm = _musicxml_notes(score_path)
        for performer in performers:
            stem = f"{piece}_p{performer:02d}"
            truth = group_truth(notes, read_match(root / "match" / f"{stem}.match")) + LEAD_IN_S
            render_midi(root / "midi" / f"{stem}.mid", folder / f"{stem}.wav", lead_in_s=LEAD_IN_S)
            found.append(
                Performance("vienna", stem, notes, score_path, folder / f"{stem}.wav", truth,
                            mean_tempo_factor(notes, truth), bpm)
            )
    return found


def k265() -> list[Performance]:
    """The real recording of Mozart's K265, variation 1."""
    root = DATA / "mozart_k265"
    notes, bpm = _musicxml_notes(root / "mozart_k265_var1.musicxml")
    truth = group_truth(notes, read_match(root / "mozart_k265_var1.match"))
    wav = cache_dir("k265") / "mozart_k265_var1.wav"
    if not wav.is_file():
        write_wav(wav, load_audio(root / "mozart_k265_var1.mp3"))
    return [
        Performance("k265", "mozart_k265_var1", notes, root / "mozart_k265_var1.musicxml", wav, truth,
                    mean_tempo_factor(notes, truth), bpm)
    ]


def excerpt(perf: Performance, seconds: float) -> Performance:
    """The first ``seconds`` of a performance (quick runs); onsets after the cut count as not played."""
    path = cache_dir("excerpts") / f"{perf.dataset}-{perf.name}-{seconds:g}s.wav"
    if not path.is_file():
        write_wav(path, perf.audio()[: int(seconds * SAMPLE_RATE)])
    truth = np.where(perf.truth <= seconds - 0.5, perf.truth, np.nan)
    return replace(perf, name=f"{perf.name}-first{seconds:g}s", audio_path=path, truth=truth, variant="excerpt")
