"""The command language as sentence templates, and snapping a recogniser's guess to the nearest command.

Templates use a small JSGF-like notation: ``(a|b)`` alternatives, ``[x]`` optional, and two slots, ``<n>``
(a whole number) and ``<note>`` (a note letter, optionally "flat"/"sharp"). Each expanded template is a
canonical command sentence; ``intents.parse`` of a filled-in sentence gives its intent, so the grammar and
the parser cannot disagree (a test checks every template).

``nearest_commands`` aligns a hypothesis ("go to my five") to every template with a word-level edit distance
whose substitution cost is a phoneme edit distance (CMUdict, as shipped inside pocketsphinx), so a misheard
word costs less when it sounds like the right one. The slot ``<n>`` takes a number the recogniser wrote, or
one word that sounds like a number word. The caller decides, with the audio, between the best few.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cache

from inference.speech.intents import normalise
from inference.speech.lexicon import phones, phone_distance
from inference.speech.numbers import TENS, UNITS

_LEADS = "[(go to|jump to|skip to|start at|start from|take it from|from|again from|back to|play from)]"
TEMPLATES: tuple[str, ...] = (
    f"{_LEADS} (bar|measure) <n> [please]",
    "(loop|repeat|practice|practise) [from] (bars|measures|bar|measure) <n> (to|through) [bar|measure] <n> [please]",
    "loop from (bar|measure) <n> to (bar|measure) <n>",
    "(stop|cancel|end) [the] (loop|looping)",
    "(loop off|no loop|stop looping)",
    "[set] [the] tempo [to] <n> [please]",
    "<n> (beats per minute|bpm) [please]",
    "speed <n>",
    "[a] [bit|little] (slower|faster) [please]",
    "(slow down|slow it down|too fast|speed up|speed it up|too slow) [please]",
    "(start again|start over|restart|begin again) [please]",
    "[start] (from|back to) the (top|beginning|start)",
    "(metronome|click) (on|off) [please]",
    "(turn|switch) (on|off) the (metronome|click)",
    "(start|stop) the (metronome|click)",
    "no (metronome|click)",
    "[give me a] count [me] in",
    "count in <n> bars",
    "(no count in|count in off)",
    "(give me|play) (a|an) <note> [flat|sharp] [please]",
    "(tuning note|reference pitch|tuning|tune) [please]",
    "next [exercise|lesson|piece|one] [please]",
    "go to the next (exercise|lesson|piece)",
    "(move on|skip this)",
    "previous [exercise|lesson|piece|one] [please]",
    "go back [one]",
    "go back to the (last|previous) (exercise|lesson|piece)",
    "(repeat|repeat that|again|one more time|once more|play it again|play that again) [please]",
    "(pause|hold on|hold on a second|wait|wait a second|one moment) [please]",
    "(resume|continue|keep going|carry on|go on) [please]",
    "(stop|stop recording|stop playing|that's enough|that's it|i'm done|enough) [please]",
    "(how did i do|how was that|how was it|how did that go|how am i doing)",
    "(show me|show) (my results|the summary|my score)",
    "(summary|results|my results|feedback) [please]",
)
"""Every command phrasing Etude understands, in the notation above (the JSGF grammar is built from it too)."""

NUMBER_RANGE = range(1, 300)
NOTE_LETTERS = "abcdefg"
SLOT_NUMBER, SLOT_NOTE = "<n>", "<note>"
FILLER_WORDS = frozenset("please the a an ok okay um uh so now just".split())
INSERT_COST, DELETE_COST, FILLER_COST = 0.7, 0.8, 0.35
"""Edit costs (a substitution costs the phoneme distance of the two words, 0..1)."""
NONNUMBER_SLOT_COST = 0.25
"""Extra cost of reading a word the recogniser did not write as a number ("it" → eight) into ``<n>``."""


@dataclass(frozen=True)
class Snap:
    """A command sentence near a hypothesis: its words, the edit cost, and that cost per word."""

    words: tuple[str, ...]
    cost: float
    template: int

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def per_word(self) -> float:
        return self.cost / max(1, len(self.words))


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
    parts, depth, current = [], 0, []
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


def hypothesis_words(text: str) -> list[str]:
    """A recogniser's text as lower-case words, with numbers in digits (as the parser sees them)."""
    return [w for w in normalise(text) if w]


@cache
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


@cache
def _word_cost(heard: str, expected: str) -> float:
    if heard == expected:
        return 0.0
    if heard.isdigit():
        heard_phones = tuple(p for w in number_words(int(heard)) for p in phones(w)) if 0 < int(heard) < 1000 else ()
    else:
        heard_phones = phones(heard)
    return phone_distance(heard_phones, phones(expected))


@cache
def _slot_fill(word: str, slot: str) -> tuple[str, float] | None:
    """(value, cost) of reading one heard word into a slot, or None when it cannot be read there."""
    if slot == SLOT_NUMBER:
        if word.isdigit():
            return (word, 0.0) if int(word) in NUMBER_RANGE else None
        best = min(NUMBER_RANGE[:99], key=lambda v: _phrase_cost(word, number_words(v)))
        return str(best), _phrase_cost(word, number_words(best)) + NONNUMBER_SLOT_COST
    letters = [(letter, _word_cost(word, letter)) for letter in NOTE_LETTERS]
    letter, cost = min(letters, key=lambda item: item[1])
    return letter.upper(), cost


def _phrase_cost(word: str, expected: tuple[str, ...]) -> float:
    return phone_distance(phones(word), tuple(p for w in expected for p in phones(w)))


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


def _insert_cost(word: str) -> float:
    return FILLER_COST if word in FILLER_WORDS else INSERT_COST


def _delete_cost(word: str) -> float:
    if word.startswith("<"):
        return float("inf")
    return FILLER_COST if word in FILLER_WORDS else DELETE_COST


def _match(word: str, expected: str) -> tuple[str | None, float]:
    if expected.startswith("<"):
        fill = _slot_fill(word, expected)
        return (None, float("inf")) if fill is None else fill
    return None, _word_cost(word, expected)


Column = list[tuple[float, tuple[str, ...]]]
"""Per heard-prefix length: (cost, slot values so far) of the best alignment ending at a trie node."""


def _step(column: Column, heard: list[str], word: str) -> Column:
    """The trie node one template ``word`` further on: delete it, match it to heard word i, or insert."""
    missing = _delete_cost(word)
    cost, fills = column[0]
    out: Column = [(cost + missing, fills)]
    for i, heard_word in enumerate(heard, 1):
        cost, fills = column[i][0] + missing, column[i][1]
        value, step = _match(heard_word, word)
        if column[i - 1][0] + step < cost:
            cost = column[i - 1][0] + step
            fills = column[i - 1][1] + ((value,) if value is not None else ())
        inserted = out[i - 1][0] + _insert_cost(heard_word)
        if inserted < cost:
            cost, fills = inserted, out[i - 1][1]
        out.append((cost, fills))
    return out


def nearest_commands(text: str, limit: int = 4, max_cost: float = 4.0) -> list[Snap]:
    """The ``limit`` cheapest command sentences for ``text``, at most one per template, cheapest first."""
    heard = hypothesis_words(text)
    if not heard:
        return []
    root: Column = [(0.0, ())]
    for word in heard:
        root.append((root[-1][0] + _insert_cost(word), ()))
    best: dict[int, tuple[float, tuple[str, ...], tuple[str, ...]]] = {}
    stack: list[tuple[_Node, Column, tuple[str, ...]]] = [(_trie(), root, ())]
    while stack:
        node, column, path = stack.pop()
        cost, fills = column[-1]
        for index in node.ends:
            if cost < best.get(index, (float("inf"),))[0]:
                best[index] = (cost, path, fills)
        if min(c for c, _ in column) > max_cost:
            continue
        for word, child in node.children.items():
            stack.append((child, _step(column, heard, word), path + (word,)))
    snaps = [Snap(_fill(path, fills), round(cost, 4), i) for i, (cost, path, fills) in best.items()]
    return sorted(snaps, key=lambda s: s.cost)[:limit]


def _fill(path: tuple[str, ...], fills: tuple[str, ...]) -> tuple[str, ...]:
    values = iter(fills)
    return tuple(next(values, w) if w.startswith("<") else w for w in path)


def confusable_numbers(value: int) -> list[int]:
    """Numbers a recogniser mixes up with ``value``: six/sixteen/sixty, nineteen/ninety, twenty/two, 96/86."""
    out = [value]
    if value < 10:
        out += [value + 10, value * 10] if value > 1 else [value + 10]
    elif value < 20:
        out += [value - 10, (value - 10) * 10]
    elif value < 100:
        tens, unit = divmod(value, 10)
        out += [tens + 10, tens] if not unit else [tens * 10, unit, tens * 10 + 10 + unit, tens * 10 - 10 + unit]
    return [v for v in dict.fromkeys(out) if v in NUMBER_RANGE]


def with_numbers(words: tuple[str, ...], values: tuple[int, ...]) -> tuple[str, ...]:
    """``words`` with its number slots (digit words) replaced, in order, by ``values``."""
    it = iter(values)
    return tuple(str(next(it)) if w.isdigit() else w for w in words)


def number_variants(words: tuple[str, ...], limit: int = 6) -> list[tuple[str, ...]]:
    """``words`` and copies whose numbers are swapped for confusable ones (first number varies most)."""
    numbers = [int(w) for w in words if w.isdigit()]
    if not numbers:
        return [words]
    options = [confusable_numbers(v) for v in numbers]
    combos = itertools.islice(itertools.product(*options), limit)
    return [with_numbers(words, combo) for combo in combos]
