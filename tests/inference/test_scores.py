"""Score reading: corpus pieces become note lists whose ids match the SVG; bad files get clear errors."""

from __future__ import annotations

import io
import zipfile

import pytest

from inference.engraving import note_ids_in_svg, render_svg_pages
from inference.scores import MAX_SCORE_BYTES, ScoreError, load_score, normalise
from tests.conftest import corpus_score, shared_data

TWINKLE_ABC = b"""X:1
T:Twinkle
M:4/4
L:1/4
Q:1/4=90
K:C
C C G G | A A G2 | F F E E | D D C2 |]
"""


def test_every_note_id_is_in_the_svg(lullaby) -> None:  # type: ignore[no-untyped-def]
    pages = render_svg_pages(lullaby.musicxml)
    ids = note_ids_in_svg(pages)
    assert len(lullaby.notes) == 30
    assert {n.note_id for n in lullaby.notes} <= ids


def test_onsets_in_seconds_follow_the_written_tempo() -> None:
    score = load_score(TWINKLE_ABC, "twinkle.abc")
    assert score.tempo_bpm == pytest.approx(90)
    assert [n.midi for n in score.notes[:4]] == [60, 60, 67, 67]
    for note in score.notes:
        assert note.onset_s == pytest.approx(note.onset_q * 60 / 90)
        assert note.duration_s == pytest.approx(note.duration_q * 60 / 90)
    assert score.notes[-1].measure == 4 and score.notes[-1].duration_q == 2.0


def test_notes_carry_measure_and_beat() -> None:
    score = load_score(TWINKLE_ABC, "twinkle.abc")
    second_bar = [n for n in score.notes if n.measure == 2]
    assert [n.beat for n in second_bar] == [1.0, 2.0, 3.0]


def test_chorale_chords_keep_one_entry_per_voice() -> None:
    chorale = corpus_score("bach/bwv66.6")
    first_onset = [n for n in chorale.notes if n.onset_q == chorale.notes[0].onset_q]
    assert len(first_onset) == 4
    assert {n.part for n in first_onset} == {0, 1, 2, 3}
    assert note_ids_in_svg(render_svg_pages(chorale.musicxml)) >= {n.note_id for n in chorale.notes}


def test_tied_notes_fold_into_one_onset() -> None:
    tied = b"X:1\nT:Tie\nM:2/4\nL:1/4\nK:C\nc2- | c2 | d2 |]\n"
    score = load_score(tied, "tie.abc")
    assert [(n.midi, n.duration_q) for n in score.notes] == [(72, 4.0), (74, 2.0)]


def test_nottingham_midi_reads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = shared_data("nottingham", "MIDI", "melody", "ashover1.mid")
    score = load_score(path.read_bytes(), path.name)
    assert score.format == "midi" and len(score.notes) > 50
    assert all(a.onset_q <= b.onset_q for a, b in zip(score.notes, score.notes[1:], strict=False))


def test_vienna_musicxml_reads() -> None:
    path = shared_data("vienna4x22", "musicxml", "Mozart_K331_1st-mov.musicxml")
    score = load_score(path.read_bytes(), path.name)
    assert score.tempo_bpm > 0 and len(score.notes) > 300
    assert {n.note_id for n in score.notes} <= note_ids_in_svg(render_svg_pages(score.musicxml))


def test_compressed_musicxml_reads(lullaby) -> None:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "META-INF/container.xml",
            '<container><rootfiles><rootfile full-path="tune.musicxml"/></rootfiles></container>',
        )
        archive.writestr("tune.musicxml", lullaby.musicxml)
    score = load_score(buffer.getvalue(), "tune.mxl")
    assert len(score.notes) == 30


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.xml", "empty"),
        (b"\x00\x01garbage" * 10, "noise.xml", "not well-formed XML"),
        (b"<html><body>hi</body></html>", "page.xml", "not MusicXML"),
        (b"hello", "song.pdf", "not a score file"),
        (b"RIFF....WAVE", "song.mid", "not a MIDI file"),
        (b"just some words", "tune.abc", "not ABC"),
        (b"MThd\x00\x00\x00\x06garbage", "broken.mid", "could not be read as MIDI"),
        (b"PK\x03\x04 not a zip", "broken.mxl", "not a valid compressed MusicXML"),
    ],
)
def test_bad_files_get_clear_messages(data: bytes, name: str, message: str) -> None:
    with pytest.raises(ScoreError, match=message):
        load_score(data, name)


def test_entity_expansion_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE score-partwise [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><score-partwise>&b;</score-partwise>'
    )
    with pytest.raises(ScoreError, match="entities or external references"):
        load_score(bomb, "bomb.musicxml")


def test_external_references_are_refused() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE score-partwise [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<score-partwise><work><work-title>&x;</work-title></work></score-partwise>"
    )
    with pytest.raises(ScoreError, match="entities or external references"):
        load_score(xxe, "xxe.xml")


def test_oversized_file_names_the_limit() -> None:
    with pytest.raises(ScoreError, match=f"limit is {MAX_SCORE_BYTES // 2**20} MB"):
        load_score(b"X" * (MAX_SCORE_BYTES + 1), "big.abc")


def test_zip_bomb_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("score.musicxml", b"<score-partwise>" + b" " * (25 * 2**20) + b"</score-partwise>")
    assert len(buffer.getvalue()) < MAX_SCORE_BYTES
    with pytest.raises(ScoreError, match="unpacks to more than"):
        load_score(buffer.getvalue(), "bomb.mxl")


def test_too_many_notes_names_the_limit() -> None:
    from music21 import converter

    score = converter.parse(TWINKLE_ABC.decode(), format="abc")
    with pytest.raises(ScoreError, match="14 notes; the limit is 10"):
        normalise(score, fmt="abc", max_notes=10)


def test_chord_symbols_are_not_notes() -> None:
    """Nottingham-style ABC puts chord names over the melody; only the melody is played."""
    abc = b'X:1\nT:With chords\nM:4/4\nL:1/4\nK:G\n"G"G A B c | "D"d2 "G"B2 |]\n'
    parsed = load_score(abc, "chords.abc")
    assert [n.midi for n in parsed.notes] == [67, 69, 71, 72, 74, 71]
    assert all(n.duration_q > 0 for n in parsed.notes)
