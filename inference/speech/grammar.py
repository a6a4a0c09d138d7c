"""The command language as sentence templates: the grammar that constrained decoding and pocketsphinx use.

Templates use a small JSGF-like notation: ``(a|b)`` alternatives, ``[x]`` optional, and slots ``<n>`` (a
whole number, 1-299; ``<bpm>`` 20-299 and ``<bars>`` 1-8 for tempos and count-ins), ``<note>`` (a note
letter said after "a": B C D G) and ``<an-note>`` (after "an": A E F). Each expanded template is a
canonical command; ``intents.parse`` of a filled-in sentence gives its intent, so the grammar and the
parser cannot disagree (``tests/inference/test_grammar.py`` checks every
template). ``sentences`` and the word trie feed ``constrained.CommandLanguage``; ``jsgf`` is the same
language for pocketsphinx.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from inference.speech.intents import normalise
from inference.speech.numbers import TENS, UNITS

_LEADS = "[(go to|jump to|skip to|start at|start from|take it from|from|again from|back to|play from)]"
TEMPLATES: tuple[str, ...] = (
    f"{_LEADS} (bar|measure) <n> [please]",
    "(loop|repeat|practice|practise) [from] (bars|measures|bar|measure) <n> (to|through) [bar|measure] <n> [please]",
    "loop from (bar|measure) <n> to (bar|measure) <n>",
    "(stop|cancel|end) [the] (loop|looping)",
    "(loop off|no loop|stop looping)",
    "[set] [the] tempo [to] <bpm> [please]",
    "<bpm> (beats per minute|bpm) [please]",
    "speed <bpm>",
    "[a] [bit|little] (slower|faster) [please]",
    "(slow down|slow it down|too fast|speed up|speed it up|too slow) [please]",
    "(start again|start over|restart|begin again) [please]",
    "[start] (from|back to) the (top|beginning|start)",
    "(metronome|click) (on|off) [please]",
    "(turn|switch) (on|off) the (metronome|click)",
    "(start|stop) the (metronome|click)",
    "no (metronome|click)",
    "[give me a] count [me] in",
    "count in <bars> bars",
    "(no count in|count in off)",
    "(give me|play) (a <note>|an <an-note>) [flat|sharp] [please]",
    "(tuning note|reference pitch|tuning|tune) [please]",
    "next [exercise|lesson|piece|one] [please]",
    "go to the next (exercise|lesson|piece)",
    "(move on|skip this)",
    "previous [exercise|lesson|piece|one] [please]",
    "go back [one]",
    "go back to the (last|previous) (exercise|lesson|piece)",
    "(repeat|repeat that|again|one more time|play it again|play that again) [please]",
    "(pause|hold on|hold on a second|wait|wait a second|one moment) [please]",
    "(resume|continue|keep going|carry on|go on) [please]",
    "(stop|stop recording|stop playing|that's enough|that's it|i'm done|enough) [please]",
    "(how did i do|how was that|how was it|how did that go|how am i doing)",
    "(show me|show) (my results|the summary|my score)",
    "(summary|results|my results|feedback) [please]",
)
"""Every command phrasing Etude understands, in the notation above (the JSGF grammar is built from it too)."""

NUMBER_RANGE = range(1, 300)
BPM_RANGE = range(20, 300)
"""Tempos the parser accepts (``intents.MIN_BPM``..): "tempo seven" cannot be written, so it cannot crowd out
"tempo seventy" in the beam."""
BARS_RANGE = range(1, 9)
"""Count-in lengths in bars."""
NOTE_LETTERS = "abcdefg"
SLOT_NUMBER, SLOT_NOTE, SLOT_AN_NOTE = "<n>", "<note>", "<an-note>"
SLOT_BPM, SLOT_BARS = "<bpm>", "<bars>"
SLOT_RANGES = {SLOT_NUMBER: NUMBER_RANGE, SLOT_BPM: BPM_RANGE, SLOT_BARS: BARS_RANGE}
"""The number slots and the values each may take."""
AN_LETTERS = "aef"
"""Note names said after "an" (the others take "a")."""


def expand(template: str) -> list[tuple[str, ...]]:
    """Every word sequence of ``template`` (slots kept as ``<n>``/``<note>``)."""
    return [tuple(w for w in " ".join(parts).split()) for parts in _expand(_tokenise(template))]


def _tokenise(template: str) -> list[str]:
    return re.findall(r"[()\[\]|]|[^\s()\[\]|]+", template)


def _expand(tokens: list[str]) -> list[list[str]]:
    """Expansions of a token list as lists of word strings (a recursive-descent reading of the notation)."""
    sequences: list[list[str]] = [[]]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in "([":
            depth, j = 1, i + 1
            while depth:
                depth += tokens[j] in "(["
                depth -= tokens[j] in ")]"
                j += 1
            options = _alternatives(tokens[i + 1 : j - 1]) + ([[]] if token == "[" else [])
            sequences = [s + o for s in sequences for o in options]
            i = j
        else:
            sequences = [s + [token] for s in sequences]
            i += 1
    return sequences


def _alternatives(tokens: list[str]) -> list[list[str]]:
    parts: list[list[str]] = []
    depth = 0
    current: list[str] = []
    for token in tokens:
        depth += token in "(["
        depth -= token in ")]"
        if token == "|" and depth == 0:
            parts.append(current)
            current = []
        else:
            current.append(token)
    parts.append(current)
    return [e for part in parts for e in _expand(part)]


@cache
def sentences() -> tuple[tuple[tuple[str, ...], int], ...]:
    """Every expanded template with the index of the template it came from."""
    return tuple((words, i) for i, t in enumerate(TEMPLATES) for words in expand(t))


@cache
def syllables(text: str) -> int:
    """About how many syllables ``text`` has as said (numbers spelt out, a vowel group each; a final silent
    "e" not counted): "Tempo 120." → 8. Enough to tell a two-syllable command from a sentence."""
    count = 0
    for word in normalise(text):
        for said in number_words(int(word)) if word.isdigit() else (word,):
            stem = said[:-1] if said.endswith("e") and len(said) > 2 else said
            count += max(1, len(re.findall(r"[aeiouy]+", stem)))
    return count


def number_words(value: int) -> tuple[str, ...]:
    """``value`` spelt out the way the grammar says it: 120 → ("one", "hundred", "and", "twenty")."""
    units = {v: k for k, v in UNITS.items() if k != "oh"}
    tens = {v: k for k, v in TENS.items() if k != "fourty"}
    if value < 20:
        return (units[value],)
    if value < 100:
        return (tens[value - value % 10],) + ((units[value % 10],) if value % 10 else ())
    rest = value % 100
    return (units[value // 100], "hundred") + (("and", *number_words(rest)) if rest else ())


@dataclass
class _Node:
    """A trie of the expanded templates: shared prefixes are aligned once."""

    children: dict[str, _Node]
    ends: list[int]


@cache
def _trie() -> _Node:
    root = _Node({}, [])
    for words, index in sentences():
        node = root
        for word in words:
            node = node.children.setdefault(word, _Node({}, []))
        node.ends.append(index)
    return root


def jsgf() -> str:
    """The same command language as a JSGF grammar (for pocketsphinx): numbers 1-299 in words (``<bpm>`` is
    not narrowed here: a tempo below 20 is left to the parser to refuse)."""
    units = " | ".join(number_words(v)[0] for v in range(1, 10))
    teens = " | ".join(number_words(v)[0] for v in range(10, 20))
    tens = " | ".join(number_words(v)[0] for v in range(20, 100, 10))
    an = " | ".join(AN_LETTERS)
    other = " | ".join(c for c in NOTE_LETTERS if c not in AN_LETTERS)
    rules = [
        "#JSGF V1.0;",
        "grammar etude;",
        f"<unit> = {units};",
        f"<teen> = {teens};",
        f"<tens> = {tens};",
        "<below100> = <unit> | <teen> | <tens> [<unit>];",
        "<n> = <below100> | (one | two) hundred [and] [<below100>] | (one | two) (<teen> | <tens> [<unit>]);",
        "<bpm> = <n>;",
        "<bars> = " + " | ".join(number_words(v)[0] for v in BARS_RANGE) + ";",
        f"<note> = {other};",
        f"<an-note> = {an};",
    ]
    bodies = [re.sub(r"(?<![<\w])'", "'", t) for t in TEMPLATES]
    rules.append("public <command> = [ok | okay] (" + " | ".join(f"({b})" for b in bodies) + ");")
    return "\n".join(rules) + "\n"
