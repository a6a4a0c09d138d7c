"""Spoken numbers to digits: "twelve" → 12, "one hundred and twenty" → 120, "one twenty" → 120.

Recognisers write numbers either way ("bar 12", "bar twelve"); intents are parsed from digits only.
"""

from __future__ import annotations

import re

UNITS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
}  # fmt: skip
_NUMBER_WORDS = set(UNITS) | set(TENS) | {"hundred", "a", "and"}
_DIGIT_SUFFIX = re.compile(r"^(\d+)(st|nd|rd|th)$")


def words_to_numbers(tokens: list[str]) -> list[str]:
    """Replace each run of number words in ``tokens`` with its value as a digit string."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        value, used = _read_number(tokens, i)
        if used:
            out.append(str(value))
            i += used
            continue
        suffixed = _DIGIT_SUFFIX.match(tokens[i])
        out.append(suffixed.group(1) if suffixed else tokens[i])
        i += 1
    return out


def _read_number(tokens: list[str], start: int) -> tuple[int, int]:
    """(value, tokens used) of the number starting at ``start``; used is 0 when none starts there."""
    first = tokens[start]
    if first == "a":  # "a hundred"
        if start + 1 < len(tokens) and tokens[start + 1] == "hundred":
            value, used = _below_thousand(tokens, start + 1, leading=1)
            return value, used + 1
        return 0, 0
    if first in ("oh", "and") or (first not in UNITS and first not in TENS and not first.isdigit()):
        return 0, 0
    if first.isdigit():
        return 0, 0
    value, used = _below_thousand(tokens, start, leading=None)
    # "one twenty" (a tempo said the musician's way): hundreds digit then a two-digit number.
    nxt = start + used
    if used == 1 and 1 <= value <= 9 and nxt < len(tokens) and tokens[nxt] in TENS:
        rest, rest_used = _below_hundred(tokens, nxt)
        return value * 100 + rest, used + rest_used
    return value, used


def _below_thousand(tokens: list[str], start: int, leading: int | None) -> tuple[int, int]:
    i = start
    if leading is None:
        head, used = _below_hundred(tokens, i)
        i += used
    else:
        head = leading
    if i < len(tokens) and tokens[i] == "hundred" and 1 <= head <= 9:
        i += 1
        if i + 1 < len(tokens) and tokens[i] == "and" and _is_number_word(tokens[i + 1]):
            i += 1
        tail, used = _below_hundred(tokens, i) if i < len(tokens) else (0, 0)
        return head * 100 + tail, i + used - start
    return head, i - start


def _below_hundred(tokens: list[str], start: int) -> tuple[int, int]:
    if start >= len(tokens):
        return 0, 0
    word = tokens[start]
    if word in UNITS and word != "oh":
        return UNITS[word], 1
    if word in TENS:
        if start + 1 < len(tokens) and tokens[start + 1] in UNITS and 1 <= UNITS[tokens[start + 1]] <= 9:
            return TENS[word] + UNITS[tokens[start + 1]], 2
        return TENS[word], 1
    return 0, 0


def _is_number_word(word: str) -> bool:
    return (word in UNITS and word != "oh") or word in TENS
