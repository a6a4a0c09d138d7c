"""A composer track as files: a Standard MIDI File (melody and drums), and MusicXML with note ids.

The MusicXML goes through ``inference.scores.normalise``, so it carries the same ``n1, n2, ...`` note ids as
an uploaded score: Verovio's SVG (``inference.engraving``) keeps them and the listening engine can follow a
learner playing the melody. Percussion is in the MIDI file only; the score shows the melody.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from inference.composer.track import SCALES, Track, TrackParams

if TYPE_CHECKING:
    from inference.scores import ParsedScore

TICKS_PER_BEAT = 480
MELODY_CHANNEL, DRUM_CHANNEL = 0, 9
MELODY_PROGRAM = 0  # GM acoustic grand piano
DRUM_STEP_BEATS = 0.25
_KEY_MODES = {"major": "major", "minor": "minor", "harmonic_minor": "minor", "dorian": "dorian",
              "phrygian": "phrygian", "lydian": "lydian", "mixolydian": "mixolydian", "locrian": "locrian",
              "major_pentatonic": "major", "minor_pentatonic": "minor", "blues": "minor"}  # fmt: skip


def track_to_midi(track: Track, params: TrackParams, *, velocity: int = 90) -> bytes:
    """A format-0 MIDI file: the melody on channel 1 (piano), the drums on channel 10 at a lower velocity."""
    events: list[tuple[int, int, bytes]] = []  # (tick, order, message); note-offs sort before note-ons
    tick = 0
    for pitch, beats in zip(track.pitches, track.beats, strict=True):
        length = int(round(beats * TICKS_PER_BEAT))
        events.append((tick, 1, bytes([0x90 | MELODY_CHANNEL, pitch, velocity])))
        events.append((tick + length, 0, bytes([0x80 | MELODY_CHANNEL, pitch, 0])))
        tick += length
    step = int(DRUM_STEP_BEATS * TICKS_PER_BEAT)
    for i, drum in enumerate(track.percussion):
        start = i * step
        events.append((start, 1, bytes([0x90 | DRUM_CHANNEL, drum, max(1, velocity - 20)])))
        events.append((start + step, 0, bytes([0x80 | DRUM_CHANNEL, drum, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    body = bytearray()
    body += _varlen(0) + b"\xff\x51\x03" + int(round(60_000_000 / params.tempo_bpm)).to_bytes(3, "big")
    body += _varlen(0) + bytes([0xC0 | MELODY_CHANNEL, MELODY_PROGRAM])
    last = 0
    for at, _, message in events:
        body += _varlen(at - last) + message
        last = at
    body += _varlen(0) + b"\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_BEAT)
    return header + b"MTrk" + struct.pack(">I", len(body)) + bytes(body)


def _varlen(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def track_to_score(track: Track, params: TrackParams, title: str = "Composer melody") -> ParsedScore:
    """The melody as a normalised score (MusicXML with note ids, note list, tempo) via music21."""
    from music21 import key, metadata, meter, note, stream, tempo

    from inference.scores import normalise

    part = stream.Part()
    part.insert(0, meter.TimeSignature("4/4"))
    part.insert(0, tempo.MetronomeMark(number=params.tempo_bpm, referent=note.Note(type="quarter")))
    mode = _KEY_MODES.get(params.scale)
    signature = key.Key(_tonic_name(params.base_note, mode), mode) if mode is not None else None
    if signature is not None:
        part.insert(0, signature)
    for midi, beats in zip(track.pitches, track.beats, strict=True):
        part.append(note.Note(_spelled(midi, signature), quarterLength=beats))
    score = stream.Score()
    score.metadata = metadata.Metadata(title=title)
    score.insert(0, part)
    score.makeNotation(inPlace=True)
    return normalise(score, fmt="composer", fallback_title=title)


def _spelled(midi: int, signature: Any) -> Any:
    """The pitch spelt as the key signature spells it (A-flat in C minor, not G-sharp)."""
    from music21 import pitch

    plain = pitch.Pitch(midi=midi)
    for altered in signature.alteredPitches if signature is not None else ():
        if altered.pitchClass == plain.pitchClass:
            spelt = pitch.Pitch(altered.name, octave=4)
            spelt.octave = 4 + (midi - int(spelt.midi)) // 12
            return spelt
    return plain


def _tonic_name(base_note: int, mode: str) -> str:
    """A spelling of the tonic that gives a key signature of at most six accidentals."""
    from music21 import key, pitch

    candidate = pitch.Pitch(midi=base_note)
    options = [candidate, *(candidate.getAllCommonEnharmonics())]
    best = min(options, key=lambda p: abs(key.Key(p.name, mode).sharps))
    return str(best.name)


def track_to_musicxml(track: Track, params: TrackParams, title: str = "Composer melody") -> str:
    return track_to_score(track, params, title).musicxml


def describe_params(params: TrackParams) -> str:
    """A human title such as 'D dorian, 8 notes, 90 bpm'."""
    from music21 import pitch

    names = {name: name.replace("_", " ") for name in SCALES}
    tonic = pitch.Pitch(midi=params.base_note).name.replace("-", "♭").replace("#", "♯")
    return f"{tonic} {names[params.scale]}, {params.length} notes, {params.tempo_bpm} bpm"
