"""The intent parser: every command of DESIGN.md, numbers in words and digits, and what must stay unknown."""

from __future__ import annotations

import pytest

from inference.speech.intents import describe, normalise, parse
from inference.speech.phrases import COMMAND_PHRASES


@pytest.mark.parametrize(("text", "expected"), COMMAND_PHRASES)
def test_every_benchmark_phrasing_parses_to_its_intent(text: str, expected: dict) -> None:  # type: ignore[type-arg]
    assert parse(text).to_dict() == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Again from bar 12.", {"name": "seek", "measure": 12}),
        ("again from bar twelve", {"name": "seek", "measure": 12}),
        ("Go to measure twenty-one", {"name": "seek", "measure": 21}),
        ("take it from the 4th bar", {"name": "seek", "measure": 4}),
        ("Tempo 80", {"name": "tempo", "bpm": 80}),
        ("tempo one twenty", {"name": "tempo", "bpm": 120}),
        ("Set the tempo to 100 and 20.", {"name": "tempo", "bpm": 120}),
        ("a hundred and five bpm", {"name": "tempo", "bpm": 105}),
        ("Loop bars 3-6", {"name": "loop", "start": 3, "end": 6}),
        ("loop bars six to three", {"name": "loop", "start": 3, "end": 6}),
        ("Metronome on.", {"name": "metronome", "on": True}),
        ("No metronome", {"name": "metronome", "on": False}),
        ("Count in 2 bars", {"name": "count_in", "on": True, "bars": 2}),
        ("Give me a B flat.", {"name": "tune", "note": "Bb"}),
        ("OK, how did I do?", {"name": "summary"}),
        ("Next one please", {"name": "next"}),
        ("Start again!", {"name": "restart"}),
    ],
)
def test_recogniser_spellings_digits_and_punctuation(text: str, expected: dict) -> None:  # type: ignore[type-arg]
    assert parse(text).to_dict() == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Thank you.",
        "la la la la",
        "one two three four",
        "I think the weather is nice and we should go next week",
        "bar zero",  # a number no score has: ask again rather than guess
        "tempo five",  # below any tempo the page can play
        "loop bars three",  # a loop needs both ends; "bar three" alone must not become a seek
        "again from that",
    ],
)
def test_non_commands_and_impossible_numbers_are_unknown(text: str) -> None:
    intent = parse(text)
    assert intent.to_dict() == {"name": "unknown"} and intent.confidence == 0.0


def test_spoken_numbers_become_digits() -> None:
    assert normalise("bar twenty one to one hundred and twelve") == ["bar", "21", "to", "112"]
    assert normalise("tempo one twenty") == ["tempo", "120"]
    assert normalise("one more time") == ["1", "more", "time"]


def test_confidence_falls_with_the_recogniser_and_with_extra_words() -> None:
    assert parse("metronome on").confidence == 1.0
    assert parse("metronome on", asr_confidence=0.5).confidence == 0.5
    assert 0.6 <= parse("could you maybe turn the metronome on").confidence < 1.0


def test_people_are_told_what_was_heard() -> None:
    assert describe(parse("loop bars three to six")) == "Loop bars 3–6"
    assert describe(parse("gibberish words here")) == "Sorry, I didn't catch that."
