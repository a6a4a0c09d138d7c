"""Read uploaded scores safely and turn them into the note list that every other part of Etude uses.

Accepts MusicXML (``.xml``, ``.musicxml``, compressed ``.mxl``), Standard MIDI Files and ABC. The file is
checked before music21 sees it (size, magic bytes, XML without entities or external references, zip
archives without bombs), parsed with music21, given stable note ids (``n1``, ``n2``, ... in score order),
and written back out as MusicXML so that Verovio's SVG carries the same ids (see ``inference.engraving``).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from inference.types import ScoreNote

if TYPE_CHECKING:
    from music21 import stream

MAX_SCORE_BYTES = 2 * 1024 * 1024
"""Largest upload accepted, as sent (a compressed .mxl counts by its compressed size)."""
MAX_UNCOMPRESSED_BYTES = 20 * 1024 * 1024
"""Largest total size of the members of an .mxl archive, against zip bombs."""
MAX_NOTES = 5000
"""Most notes (after folding ties) a score may hold: about 20 minutes of dense melody."""
DEFAULT_QUARTER_BPM = 120.0

FORMATS = {
    ".xml": "musicxml",
    ".musicxml": "musicxml",
    ".mxl": "mxl",
    ".mid": "midi",
    ".midi": "midi",
    ".abc": "abc",
}


class ScoreError(ValueError):
    """A file that cannot become a score; the message is shown to the person who uploaded it."""


@dataclass
class ParsedScore:
    """A score ready for the lesson page and the follower."""

    title: str
    composer: str
    format: str
    musicxml: str
    """Normalised MusicXML whose ``<note id>`` values equal ``ScoreNote.note_id``."""
    notes: list[ScoreNote]
    tempo_bpm: float
    """Quarter-note tempo at the start of the score (the written tempo, or the default)."""
    measure_count: int
    part_names: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return max((n.onset_s + n.duration_s for n in self.notes), default=0.0)


def detect_format(filename: str) -> str:
    """Map a file name to one of ``musicxml``, ``mxl``, ``midi``, ``abc``, or raise ``ScoreError``."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in FORMATS:
        allowed = ", ".join(sorted(FORMATS))
        raise ScoreError(f"'{filename}' is not a score file we can read; use one of {allowed}.")
    return FORMATS[suffix]


def load_score(data: bytes, filename: str) -> ParsedScore:
    """Validate, parse and normalise an uploaded score. Raises ``ScoreError`` with a readable message."""
    fmt = detect_format(filename)
    if len(data) > MAX_SCORE_BYTES:
        raise ScoreError(f"The file is {len(data) / 1e6:.1f} MB; the limit is {MAX_SCORE_BYTES // (1024 * 1024)} MB.")
    if not data.strip():
        raise ScoreError("The file is empty.")
    if fmt == "mxl":
        data, fmt = _unpack_mxl(data), "musicxml"
    if fmt == "musicxml":
        _check_xml(data)
    elif fmt == "midi" and not data.startswith(b"MThd"):
        raise ScoreError("This is not a MIDI file (it does not start with the MIDI header).")
    elif fmt == "abc":
        _check_abc(data)
    score = _parse_with_music21(data, fmt)
    return normalise(score, fmt=fmt, fallback_title=PurePath(filename).stem)


def normalise(
    score: stream.Score, *, fmt: str, fallback_title: str = "Untitled", max_notes: int = MAX_NOTES
) -> ParsedScore:
    """Give ``score``'s notes ids, extract the note list and export MusicXML (also used for corpus pieces)."""
    from music21 import stream as m21stream

    if not isinstance(score, m21stream.Score):
        wrapper = m21stream.Score()
        wrapper.insert(0, score)
        score = wrapper
    _number_full_first_bar_one(score)
    notes = _extract_notes(score)
    if not notes:
        raise ScoreError("The score has no notes.")
    if len(notes) > max_notes:
        raise ScoreError(f"The score has {len(notes)} notes; the limit is {max_notes}.")
    meta = score.metadata
    title = (meta.title if meta and meta.title else "") or fallback_title
    composer = (meta.composer if meta and meta.composer else "") or ""
    try:
        musicxml = _export_musicxml(score)
    except Exception as exc:  # music21 raises many exception types on notation it cannot write
        raise ScoreError(f"The score could not be written as notation: {exc}") from exc
    return ParsedScore(
        title=str(title).strip() or fallback_title,
        composer=str(composer).strip(),
        format=fmt,
        musicxml=musicxml,
        notes=notes,
        tempo_bpm=_initial_bpm(score),
        measure_count=max(n.measure for n in notes),
        part_names=[str(p.partName or f"Part {i + 1}") for i, p in enumerate(score.parts)],
    )


def _unpack_mxl(data: bytes) -> bytes:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ScoreError("This .mxl file is not a valid compressed MusicXML archive.") from exc
    with archive:
        members = archive.infolist()
        if sum(m.file_size for m in members) > MAX_UNCOMPRESSED_BYTES:
            raise ScoreError(f"The .mxl archive unpacks to more than {MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB.")
        names = [m.filename for m in members]
        root = _mxl_rootfile(archive, names)
        return archive.read(root)


def _mxl_rootfile(archive: zipfile.ZipFile, names: list[str]) -> str:
    if "META-INF/container.xml" in names:
        container = archive.read("META-INF/container.xml")
        tree = _check_xml(container)
        for element in tree.iter():
            if element.tag.endswith("rootfile") and element.get("full-path") in names:
                return str(element.get("full-path"))
    candidates = [n for n in names if n.lower().endswith((".xml", ".musicxml")) and not n.startswith("META-INF")]
    if not candidates:
        raise ScoreError("The .mxl archive holds no MusicXML file.")
    return candidates[0]


def _check_xml(data: bytes) -> Any:
    """Parse with defusedxml: entity declarations and external references are refused, not expanded."""
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ScoreError(
            "The XML declares entities or external references, which are not allowed in uploaded scores."
        ) from exc
    except SafeET.ParseError as exc:
        raise ScoreError(f"This is not well-formed XML ({exc}).") from exc
    tag = root.tag.rsplit("}", 1)[-1]
    if tag not in {"score-partwise", "score-timewise", "container"}:
        raise ScoreError(f"This XML is not MusicXML (its root element is <{tag}>).")
    return root


def _check_abc(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if "\x00" in text or not any(line.startswith("K:") for line in text.splitlines()):
        raise ScoreError("This is not ABC notation (no 'K:' key line found).")


def _parse_with_music21(data: bytes, fmt: str) -> stream.Score:
    from music21 import converter
    from music21 import stream as m21stream

    try:
        parsed = converter.parseData(data if fmt == "midi" else data.decode("utf-8", "replace"), format=fmt)
    except Exception as exc:  # music21's parsers raise a zoo of exception types on bad input
        raise ScoreError(f"The file could not be read as {fmt.upper()}: {exc}") from exc
    if isinstance(parsed, m21stream.Opus):
        scores = list(parsed.scores)
        if not scores:
            raise ScoreError("The file holds no tunes.")
        parsed = scores[0]
    if not isinstance(parsed, m21stream.Stream):
        raise ScoreError("The file did not contain a score.")
    return parsed  # type: ignore[return-value]


def _number_full_first_bar_one(score: stream.Score) -> None:
    """music21's ABC reader numbers the first bar 0 even when it is complete; 0 is kept for pickups only."""
    for part in score.parts:
        measures = list(part.getElementsByClass("Measure"))
        if not measures or measures[0].number != 0:
            continue
        first = measures[0]
        if first.duration.quarterLength + 1e-6 >= first.barDuration.quarterLength:
            for measure in measures:
                measure.number += 1


def _extract_notes(score: stream.Score) -> list[ScoreNote]:
    """Assign ids in score order and fold tie continuations into the note that starts the tie."""
    tempo = _TempoMap(score)
    notes: list[ScoreNote] = []
    by_tie: dict[tuple[int, int], int] = {}
    counter = 0
    for part_index, part in enumerate(score.parts or [score]):
        for element, offset, measure_number in _notes_with_measures(part):
            members = list(element.notes) if element.isChord else [element]
            for member in members:
                counter += 1
                member.id = f"n{counter}"
                midi = int(member.pitch.midi)
                tie = member.tie if member.tie is not None else getattr(element, "tie", None)
                key = (part_index, midi)
                duration_q = float(element.quarterLength)
                if tie is not None and tie.type in ("continue", "stop") and key in by_tie:
                    start = notes[by_tie[key]]
                    end_q = offset + duration_q
                    notes[by_tie[key]] = _with_end(start, end_q, tempo)
                    if tie.type == "stop":
                        del by_tie[key]
                    continue
                notes.append(
                    ScoreNote(
                        note_id=member.id,
                        onset_q=offset,
                        onset_s=tempo.seconds(offset),
                        duration_q=duration_q,
                        duration_s=tempo.seconds(offset + duration_q) - tempo.seconds(offset),
                        midi=midi,
                        measure=measure_number,
                        beat=float(element.beat) if element.beat is not None else 1.0,
                        part=part_index,
                    )
                )
                if tie is not None and tie.type == "start":
                    by_tie[key] = len(notes) - 1
    notes.sort(key=lambda n: (n.onset_q, n.part, -n.midi))
    return notes


def _notes_with_measures(part: stream.Stream) -> list[tuple[Any, float, int]]:
    """(note or chord, onset in quarters from the part's start, bar number); grace notes and chord symbols
    left out."""
    from music21.harmony import Harmony

    measures = list(part.getElementsByClass("Measure"))
    found = []
    if measures:
        for measure in measures:
            start = float(measure.getOffsetInHierarchy(part))
            for element in measure.recurse().notes:
                offset = start + float(element.getOffsetInHierarchy(measure))
                found.append((element, offset, int(measure.number)))
    else:
        for element in part.flatten().notes:
            found.append((element, float(element.getOffsetInHierarchy(part)), int(element.measureNumber or 1)))
    # Chord symbols ("Am" over the staff, music21 Harmony objects) are chords to music21 but nobody plays
    # them from a melody part; grace notes take no time of their own.
    return [item for item in found if not item[0].duration.isGrace and not isinstance(item[0], Harmony)]


def _with_end(note: ScoreNote, end_q: float, tempo: _TempoMap) -> ScoreNote:
    duration_q = end_q - note.onset_q
    return ScoreNote(
        note_id=note.note_id,
        onset_q=note.onset_q,
        onset_s=note.onset_s,
        duration_q=duration_q,
        duration_s=tempo.seconds(end_q) - note.onset_s,
        midi=note.midi,
        measure=note.measure,
        beat=note.beat,
        part=note.part,
    )


class _TempoMap:
    """Quarter-note offsets to seconds at the written tempo, from the score's metronome marks."""

    def __init__(self, score: stream.Score) -> None:
        self.segments: list[tuple[float, float, float]] = []  # (start_q, start_s, seconds per quarter)
        try:
            boundaries = score.flatten().metronomeMarkBoundaries()
        except Exception:  # scores without usable marks fall back to the default tempo
            boundaries = []
        elapsed = 0.0
        for start_q, end_q, mark in boundaries:
            bpm = mark.getQuarterBPM() or DEFAULT_QUARTER_BPM
            self.segments.append((float(start_q), elapsed, 60.0 / bpm))
            elapsed += (float(end_q) - float(start_q)) * 60.0 / bpm
        if not self.segments:
            self.segments.append((0.0, 0.0, 60.0 / DEFAULT_QUARTER_BPM))

    def seconds(self, offset_q: float) -> float:
        start_q, start_s, spq = self.segments[0]
        for segment in self.segments:
            if segment[0] <= offset_q:
                start_q, start_s, spq = segment
        return start_s + (offset_q - start_q) * spq


def _initial_bpm(score: stream.Score) -> float:
    marks = list(score.recurse().getElementsByClass("MetronomeMark"))
    bpm = marks[0].getQuarterBPM() if marks else None
    return float(bpm) if bpm else DEFAULT_QUARTER_BPM


def _export_musicxml(score: stream.Score) -> str:
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    return GeneralObjectExporter(score).parse().decode("utf-8")
