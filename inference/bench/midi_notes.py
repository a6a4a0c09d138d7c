"""A small Standard MIDI File reader for benchmarks: notes with onsets and durations in seconds.

Handles formats 0 and 1, tempo changes (from any track), running status and note-on with velocity 0 as
note-off; percussion (channel 10) is skipped. Sustain pedal is ignored: durations are key-down times.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MidiNote:
    onset_s: float
    duration_s: float
    midi: int
    velocity: int


def read_midi_notes(path: str | Path) -> list[MidiNote]:
    data = Path(path).read_bytes()
    if data[:4] != b"MThd":
        raise ValueError(f"{path} is not a Standard MIDI File")
    _, n_tracks, division = struct.unpack(">HHH", data[8:14])
    if division & 0x8000:
        raise ValueError(f"{path}: SMPTE time division is not supported")
    pos = 8 + struct.unpack(">I", data[4:8])[0]
    tempos: list[tuple[int, int]] = [(0, 500_000)]
    raw: list[tuple[int, int, int, int, bool]] = []  # (tick, channel, pitch, velocity, is_on)
    for _ in range(n_tracks):
        if data[pos : pos + 4] != b"MTrk":
            raise ValueError(f"{path}: malformed track header")
        length = struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        _read_track(data[pos + 8 : pos + 8 + length], tempos, raw)
        pos += 8 + length
    return _pair_notes(raw, _TickClock(sorted(tempos), division))


def _varlen(track: bytes, i: int) -> tuple[int, int]:
    value = 0
    while True:
        byte = track[i]
        i += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, i


def _read_track(track: bytes, tempos: list[tuple[int, int]], raw: list[tuple[int, int, int, int, bool]]) -> None:
    i, tick, status = 0, 0, 0
    while i < len(track):
        delta, i = _varlen(track, i)
        tick += delta
        if track[i] & 0x80:
            status = track[i]
            i += 1
        if status == 0xFF:
            kind = track[i]
            length, i = _varlen(track, i + 1)
            if kind == 0x51 and length == 3:
                tempos.append((tick, int.from_bytes(track[i : i + 3], "big")))
            i += length
        elif status in (0xF0, 0xF7):
            length, i = _varlen(track, i)
            i += length
        else:
            kind, channel = status & 0xF0, status & 0x0F
            size = 1 if kind in (0xC0, 0xD0) else 2
            if kind in (0x80, 0x90) and channel != 9:
                pitch, velocity = track[i], track[i + 1]
                raw.append((tick, channel, pitch, velocity, kind == 0x90 and velocity > 0))
            i += size


class _TickClock:
    def __init__(self, tempos: list[tuple[int, int]], division: int) -> None:
        self.points: list[tuple[int, float, int]] = []  # (tick, seconds at tick, tempo from here)
        seconds, last_tick, last_tempo = 0.0, 0, tempos[0][1]
        for tick, tempo in tempos:
            seconds += (tick - last_tick) * last_tempo / 1e6 / division
            self.points.append((tick, seconds, tempo))
            last_tick, last_tempo = tick, tempo
        self.division = division

    def seconds(self, tick: int) -> float:
        base = self.points[0]
        for point in self.points:
            if point[0] > tick:
                break
            base = point
        return base[1] + (tick - base[0]) * base[2] / 1e6 / self.division


def _pair_notes(raw: list[tuple[int, int, int, int, bool]], clock: _TickClock) -> list[MidiNote]:
    raw.sort(key=lambda e: (e[0], e[4]))  # offs before ons at the same tick
    sounding: dict[tuple[int, int], list[tuple[int, int]]] = {}
    notes: list[MidiNote] = []
    for tick, channel, pitch, velocity, is_on in raw:
        key = (channel, pitch)
        if is_on:
            sounding.setdefault(key, []).append((tick, velocity))
        elif sounding.get(key):
            start, start_velocity = sounding[key].pop(0)
            onset = clock.seconds(start)
            notes.append(MidiNote(onset, clock.seconds(tick) - onset, pitch, start_velocity))
    notes.sort(key=lambda n: (n.onset_s, n.midi))
    return notes
