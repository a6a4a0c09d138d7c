"""The command grammar: every template is a command the parser understands, and decoding stays inside it."""

from __future__ import annotations

import numpy as np
import pytest

from inference.speech.constrained import CommandLanguage
from inference.speech.grammar import NUMBER_RANGE, TEMPLATES, expand, jsgf, number_words, sentences, syllables
from inference.speech.intents import parse
from inference.speech.phrases import COMMAND_PHRASES
from inference.speech.tokenizer import ByteLevelBPE
from inference.speech.whisper import whisper_model_dir

FILL = {"<n>": "70", "<bpm>": "70", "<bars>": "2", "<note>": "B", "<an-note>": "E"}


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_expansion_of_every_template_is_a_command(template: str) -> None:
    for words in expand(template):
        text = " ".join(FILL.get(w, w) for w in words)
        assert parse(text).is_command, text


def test_the_notation_expands_alternatives_and_options() -> None:
    assert expand("[a] (b|c d) <n>") == [("a", "b", "<n>"), ("a", "c", "d", "<n>"), ("b", "<n>"), ("c", "d", "<n>")]
    assert number_words(120) == ("one", "hundred", "and", "twenty") and number_words(66) == ("sixty", "six")
    assert len(sentences()) > 500 and "public <command>" in jsgf()


def test_the_language_spells_every_benchmark_command_and_nothing_else() -> None:
    """Walk the token automaton with greedy choices: each benchmark command can be written to the end."""
    tokenizer = ByteLevelBPE(whisper_model_dir() / "tokenizer.json")
    language = CommandLanguage(tokenizer)
    for said, expected in COMMAND_PHRASES:
        if expected["name"] == "unknown":
            continue
        ids = [tokenizer.vocab[t] for t in tokenizer.encode(" " + said)] + [language.eot]
        hyp = language.start()
        for token in ids:
            steps = {t: after for t, after in language.expand(hyp)}
            assert token in steps, f"{said!r} leaves the grammar at {tokenizer.tokens([token])}"
            hyp = steps[token]
        assert parse(hyp.text).to_dict() == expected, hyp.text
    stray = [tokenizer.vocab[t] for t in tokenizer.encode(" Go to my")]
    hyp = language.start()
    for token in stray[:2]:
        hyp = dict(language.expand(hyp))[token]
    assert stray[2] not in dict(language.expand(hyp))  # "go to my ..." cannot be written
    assert np.all(np.diff(list(NUMBER_RANGE)) == 1)


def test_number_slots_hold_only_values_the_parser_accepts() -> None:
    """A tempo of 7 or a count-in of 9 bars cannot be written, so they cannot crowd "tempo 70" out of the beam."""
    tokenizer = ByteLevelBPE(whisper_model_dir() / "tokenizer.json")
    language = CommandLanguage(tokenizer)

    def can_write(text: str) -> bool:
        hyp = language.start()
        for token in [tokenizer.vocab[t] for t in tokenizer.encode(" " + text)] + [language.eot]:
            steps = dict(language.expand(hyp))
            if token not in steps:
                return False
            hyp = steps[token]
        return True

    assert can_write("tempo 70") and can_write("Tempo seventy") and not can_write("tempo 7")
    assert can_write("count in 4 bars") and not can_write("count in 9 bars")
    assert can_write("bar 7")


@pytest.mark.parametrize(
    ("text", "count"),
    [("I'm done.", 2), ("Tempo 120.", 8), ("Metronome on.", 4), ("Give me an A.", 4), ("Reference pitch please.", 5)],
)
def test_syllables_are_counted_as_said_with_numbers_spelt_out(text: str, count: int) -> None:
    assert syllables(text) == count
