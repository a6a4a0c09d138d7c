"""Candidate commands compared: same command with another setting, and spelling closeness to free text."""

from __future__ import annotations

import numpy as np
import pytest

from inference.speech.rivals import differs_only_in_values, spelling_distance


@pytest.mark.parametrize(
    ("a", "b", "is_rival"),
    [
        ({"name": "seek", "measure": 19}, {"name": "seek", "measure": 90}, True),
        ({"name": "tune", "note": "D"}, {"name": "tune", "note": "B"}, True),
        ({"name": "loop", "start": 4, "end": 9}, {"name": "loop", "start": 4, "end": 5}, True),
        ({"name": "seek", "measure": 19}, {"name": "seek", "measure": 19}, False),
        ({"name": "metronome", "on": True}, {"name": "metronome", "on": False}, False),
        ({"name": "count_in", "on": True}, {"name": "count_in", "on": True, "bars": 4}, False),
        ({"name": "tempo", "bpm": 80}, {"name": "tempo", "change": "slower"}, False),
        ({"name": "seek", "measure": 5}, {"name": "loop", "start": 5, "end": 6}, False),
    ],
)
def test_rivals_are_one_command_with_other_numbers_or_notes(a: dict, b: dict, is_rival: bool) -> None:
    assert differs_only_in_values(a, b) is is_rival


def test_spelling_distance_counts_letters_after_normalisation() -> None:
    assert spelling_distance("Count in off.", "count in off") == 0.0
    assert spelling_distance("Tempo ninety.", "tempo 90") == 0.0  # numbers compare as digits
    assert spelling_distance("Counting off.", "count in off") == pytest.approx(0.1)
    assert spelling_distance("Temple eighty.", "tempo 80") == pytest.approx(2 / 7)
    assert spelling_distance("The weather is lovely today.", "metronome on") > 0.5
    assert np.isclose(spelling_distance("", "pause"), 1.0)
