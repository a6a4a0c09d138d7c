"""Which tunes the agent trains and is tested on, and turning them into game tracks.

Nottingham melodies (``../shared/data/nottingham/MIDI/melody``) are split by a hash of the file name, so the
split never depends on what else is in the folder: about one tune in eight is held out for testing. Every
tune that ``inference.bench.following`` may draw for its Nottingham set (named ``<file>-<n>`` there, the
MIDI file ``<file><n>.mid`` here) is held out too, so the agent is never benchmarked on a tune it trained on.
"""

from __future__ import annotations

import json
import sys
import zlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import numpy as np

from inference.following.rl.env import Track
from inference.following.rl.performances import TEST_SOUNDFONT, TRAIN_SOUNDFONT, render_performance
from inference.scores import ScoreError, load_score
from inference.types import ScoreNote

DATA_ROOT = Path(__file__).resolve().parents[3].parent / "shared" / "data"
NOTTINGHAM_MELODY = DATA_ROOT / "nottingham" / "MIDI" / "melody"
TEST_SHARE = 8
MAX_NOTES = 96
"""Tunes are cut to their first notes (by default): long enough to test tracking, short enough to train fast."""


BENCH_TUNES_DRAWN = 24
"""How many tunes the full following benchmark draws (it considers three candidates per tune)."""


@cache
def _benchmark_tunes() -> frozenset[str]:
    from inference.bench.performances import nottingham_tunes

    try:
        return frozenset("".join(name.rsplit("-", 1)) for name, _ in nottingham_tunes(BENCH_TUNES_DRAWN))
    except OSError:
        return frozenset()


def is_test_tune(name: str) -> bool:
    stem = Path(name).stem
    return zlib.crc32(stem.encode()) % TEST_SHARE == 0 or stem in _benchmark_tunes()


def nottingham_files(split: str, root: Path = NOTTINGHAM_MELODY) -> list[Path]:
    """Sorted melody MIDI files of the ``"train"`` or ``"test"`` split."""
    if split not in ("train", "test"):
        raise ValueError("split must be 'train' or 'test'")
    if not root.is_dir():
        raise FileNotFoundError(f"Nottingham data not found at {root}")
    files = sorted(root.glob("*.mid"))
    return [f for f in files if is_test_tune(f.name) == (split == "test")]


def chorale_paths(count: int) -> list[str]:
    """music21 corpus paths of ``count`` Bach chorales: four-voice polyphony for the piano-like training set
    (none of the benchmark's piano pieces is a chorale)."""
    from music21 import corpus

    paths = sorted(str(p) for p in corpus.getComposer("bach") if str(p).endswith((".mxl", ".xml", ".musicxml")))
    return paths[:: max(1, len(paths) // count)][:count]


PIANO_COMPOSERS = ("beethoven", "cpebach", "haydn", "joplin", "mozart", "schoenberg", "schumann_clara",
                   "schumann_robert")
"""music21 corpus folders whose pieces are played on piano for training: string quartets, rags, piano pieces.
None of them is a piece of the benchmark (Vienna 4x22: Chopin op. 10/3 and op. 38, Mozart K331, Schubert
D783; K265)."""


def piano_paths() -> list[str]:
    """music21 corpus paths of the polyphonic (non-chorale) pieces the agent may hear on piano."""
    from music21 import corpus

    paths = sorted(str(p) for p in corpus.getPaths() if str(p).endswith((".mxl", ".xml", ".musicxml")))
    return [p for p in paths if any(f"/corpus/{name}/" in p for name in PIANO_COMPOSERS)]


def piece_name(path: Path) -> str:
    """A file's stem, with its folders inside music21's corpus (many corpus movements are ``movement1``)."""
    parts = path.with_suffix("").parts
    return "-".join(parts[parts.index("corpus") + 1 :]) if "corpus" in parts else path.stem


def load_notes(path: Path, cache_dir: Path | None = None, max_notes: int = MAX_NOTES) -> list[ScoreNote]:
    """The first ``max_notes`` notes of a score file (parsed once, then cached as JSON)."""
    return load_tune(path, cache_dir, max_notes)[0]


def load_tune(path: Path, cache_dir: Path | None = None, max_notes: int = MAX_NOTES) -> tuple[list[ScoreNote], str]:
    """The first ``max_notes`` notes of a score file and its normalised MusicXML (cached after one parse)."""
    cached = cache_dir / "notes" / f"{piece_name(path)}-{max_notes}.json" if cache_dir else None
    if cached is not None and cached.is_file():
        data = json.loads(cached.read_text())
        if isinstance(data, dict):
            return [ScoreNote.from_dict(d) for d in data["notes"]], data["musicxml"]
    name = path.name if path.suffix != ".mxl" else path.stem + ".mxl"
    parsed = load_score(path.read_bytes(), name)
    notes = sorted(parsed.notes, key=lambda n: (n.onset_q, n.midi))[:max_notes]
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps({"notes": [n.to_dict() for n in notes], "musicxml": parsed.musicxml}))
    return notes, parsed.musicxml


def build_tracks(
    files: Iterable[Path],
    *,
    performances_each: int,
    split: str,
    seed: int,
    cache_dir: Path | None = None,
    programs: tuple[int, ...] | None = None,
    view: str = "roll",
    max_notes: int = MAX_NOTES,
    rubato: str = "mild",
) -> list[Track]:
    """Render ``performances_each`` warped performances of the first ``max_notes`` notes of every file (train
    or test soundfont, ``rubato`` as in ``performances.random_curve``), read through the symbolic score view
    (``"roll"``) or the engraved one (``"image"``)."""
    from inference.following.rl.score_image import ScoreImage
    soundfont = TRAIN_SOUNDFONT if split == "train" else TEST_SOUNDFONT
    tracks: list[Track] = []
    files = list(files)
    for k, path in enumerate(files):
        rng = np.random.default_rng([seed, zlib.crc32(path.name.encode())])
        try:
            notes, musicxml = load_tune(path, cache_dir, max_notes)
        except ScoreError as exc:
            print(f"skipping {path.name}: {exc}", file=sys.stderr)
            continue
        if len(notes) < 8:
            continue
        score_view = ScoreImage(notes, musicxml) if view == "image" else None
        for _ in range(performances_each):
            performance = render_performance(
                piece_name(path), notes, rng, soundfont=soundfont, cache_dir=cache_dir, programs=programs, rubato=rubato
            )
            tracks.append(Track.from_performance(performance, score_view))
        if (k + 1) % 25 == 0:
            print(f"  {k + 1}/{len(files)} tunes ready", file=sys.stderr, flush=True)
    return tracks
