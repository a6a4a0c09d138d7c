"""A pronunciation lexicon for comparing words by sound: CMUdict as shipped inside the pocketsphinx package.

``phones("bar")`` → ``("B", "AA", "R")``; ``phone_distance`` is a length-normalised edit distance in which
two vowels, or two consonants of the same manner, are closer than unrelated phonemes. Words the dictionary
lacks are spelt letter by letter (a rough but stable fallback). Loaded once, on first use.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from inference.speech.vocabulary import EXTRA_WORDS

LETTER_NAMES = {"a": "EY", "b": "B IY", "c": "S IY", "d": "D IY", "e": "IY", "f": "EH F", "g": "JH IY"}
"""Note names are said as letters ("give me an A"); CMUdict's first reading of "a" is the article."""
VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
_CLASSES = (
    frozenset("P B T D K G".split()),
    frozenset("F V TH DH S Z SH ZH HH".split()),
    frozenset("M N NG".split()),
    frozenset("L R W Y".split()),
    frozenset("CH JH".split()),
)
NEAR_COST = 0.5
"""Substitution cost between two vowels, or two consonants of one class (1 for anything else)."""


@cache
def _dictionary() -> dict[str, tuple[str, ...]]:
    import pocketsphinx

    path = Path(pocketsphinx.__file__).parent / "model" / "en-us" / "cmudict-en-us.dict"
    words: dict[str, tuple[str, ...]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            word, _, pron = line.strip().partition(" ")
            if word and "(" not in word:  # the first pronunciation of each word
                words[word] = tuple(pron.split())
    for word, pron in EXTRA_WORDS.items():
        words[word] = tuple(pron.split())
    for letter, pron in LETTER_NAMES.items():
        words[letter] = tuple(pron.split())
    return words


@cache
def phones(text: str) -> tuple[str, ...]:
    """The phonemes of one word or of several words separated by spaces."""
    out: list[str] = []
    for word in text.lower().split():
        pron = _dictionary().get(word)
        if pron is None:
            pron = tuple(_letter_phone(c) for c in word if c.isalnum())
        out.extend(pron)
    return tuple(out)


def _letter_phone(letter: str) -> str:
    return "AH" if letter in "aeiou" else letter.upper()


@cache
def _substitution(a: str, b: str) -> float:
    if a == b:
        return 0.0
    if a in VOWELS and b in VOWELS:
        return NEAR_COST
    return NEAR_COST if any(a in c and b in c for c in _CLASSES) else 1.0


def phone_distance(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Edit distance between two phoneme sequences divided by the longer length (0 same … 1 unrelated)."""
    if a == b:
        return 0.0
    if not a or not b:
        return 1.0
    row = [float(j) for j in range(len(b) + 1)]
    for i, pa in enumerate(a, 1):
        prev, row[0] = row[0], float(i)
        for j, pb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1.0, row[j - 1] + 1.0, prev + _substitution(pa, pb))
    return min(1.0, row[-1] / max(len(a), len(b)))
