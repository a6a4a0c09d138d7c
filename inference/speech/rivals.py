"""How candidate commands relate to each other and to what Whisper wrote freely.

Two questions the default recogniser (``grammar_whisper``) asks beyond the engines' scores:
- Do two commands differ only in a setting ("from bar 19" / "from bar 90", "a D" / "a B")? Such rivals are
  where tiny.en and pocketsphinx both mishear most ("-teen" / "-ty"), so they get a second reading.
- How close is a command's spelling to Whisper's free reading ("Counting off." / "count in off")? A reading
  one letter away from a command is that command, however low its per-token score.
"""

from __future__ import annotations

from typing import Any

from inference.speech.intents import normalise

SLOT_VALUES = ("measure", "bpm", "start", "end", "note", "bars")
"""Intent slots that hold a number or a note (``on`` and ``change`` are choices between commands)."""


def differs_only_in_values(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True when ``a`` and ``b`` are the same command with another number or note ("bar 19" / "bar 90")."""
    if a["name"] != b["name"] or set(a) != set(b):
        return False
    if any(a[k] != b[k] for k in a if k not in SLOT_VALUES):
        return False
    return any(a[k] != b[k] for k in SLOT_VALUES if k in a)


def spelling_distance(heard: str, words: str) -> float:
    """Character edits from ``heard`` to ``words``, per character of ``words``, after the parser's
    normalisation (lower case, numbers as digits) with the spaces removed: "Counting off." is 0.1 from
    "count in off"."""
    a, b = "".join(normalise(heard)), "".join(normalise(words))
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1] / max(1, len(b))
