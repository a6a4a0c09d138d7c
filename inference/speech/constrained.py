"""Grammar-constrained beam search: Whisper may only write sentences of the command language.

At every step the allowed next tokens are those that continue some command of ``grammar.TEMPLATES``: the
next word of a template (spelt in Whisper's tokens, lower case or capitalised), a number in digits or in
words inside ``<n>`` ("8", "eight", "one hundred and twenty", "one twenty", "twenty-one"), a note letter
inside ``<note>``, and at the end of a command a full stop, question mark or the end of text. The search
keeps the ``beam`` best partial commands by total log-probability (over the command vocabulary) and stops
when no partial command can beat the best finished one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from inference.speech.decoder import DecoderState, WhisperDecoder
from inference.speech.grammar import (
    AN_LETTERS,
    NOTE_LETTERS,
    SLOT_AN_NOTE,
    SLOT_NOTE,
    SLOT_RANGES,
    _Node,
    _trie,
    number_words,
)
from inference.speech.tokenizer import ByteLevelBPE

END_PUNCTUATION = (".", "?", "!")
MAX_TOKENS = 24


@dataclass
class _TokenTrie:
    children: dict[int, _TokenTrie] = field(default_factory=dict)
    value: str | None = None


class Hypothesis(NamedTuple):
    """A partial command: where it is in the grammar, what it has said, and its log-probability."""

    node: _Node
    spell: tuple[int, ...] = ()
    slot: _TokenTrie | None = None
    slot_word: str = ""
    words: tuple[str, ...] = ()
    score: float = 0.0
    is_closed: bool = False
    """A final punctuation mark was written: only the end of text may follow."""
    length: int = 0
    """Tokens written, the end of text included once finished."""

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass
class FreeReading:
    """Whisper's unconstrained (vocabulary-restricted, greedy) reading, decoded alongside the commands."""

    tokens: list[int] = field(default_factory=list)
    score: float = 0.0
    is_done: bool = False

    @property
    def mean(self) -> float:
        return self.score / max(1, len(self.tokens))


class CommandLanguage:
    """The grammar as Whisper tokens: which tokens may follow a hypothesis, and where each leads."""

    def __init__(self, tokenizer: ByteLevelBPE) -> None:
        self.tokenizer = tokenizer
        self.eot = tokenizer.vocab["<|endoftext|>"]
        self.punctuation = [tokenizer.vocab[p] for p in END_PUNCTUATION]
        numbers = {slot: (self._numbers(False, vals), self._numbers(True, vals)) for slot, vals in SLOT_RANGES.items()}
        self.slots = {
            **numbers,
            SLOT_NOTE: self._notes("".join(c for c in NOTE_LETTERS if c not in AN_LETTERS)),
            SLOT_AN_NOTE: self._notes(AN_LETTERS),
        }

    def _ids(self, text: str) -> tuple[int, ...]:
        return tuple(self.tokenizer.vocab[t] for t in self.tokenizer.encode(text))

    def spellings(self, word: str, first: bool) -> set[tuple[int, ...]]:
        forms = {word, word.capitalize()} if first or len(word) > 2 else {word}
        if word in ("i", "i'm"):
            forms = {word.capitalize()}
        if word == "bpm":
            forms.add("BPM")
        return {self._ids(" " + form) for form in forms}

    def _numbers(self, first: bool, values: range) -> _TokenTrie:
        root = _TokenTrie()
        for value in values:
            said = " ".join(number_words(value))
            forms = {str(value), said, said.replace(" and ", " ")}
            if value % 100 and 20 < value % 100 < 100 and value % 10:
                forms.add(said.replace(" " + said.split()[-1], "-" + said.split()[-1]))  # "twenty-one"
            if value > 100 and value % 100 >= 10:
                forms.add(" ".join((number_words(value // 100)[0], *number_words(value % 100))))  # "one twenty"
            for form in list(forms):
                if first:
                    forms.add(form[0].upper() + form[1:])
            for form in forms:
                node = root
                for token in self._ids(" " + form):
                    node = node.children.setdefault(token, _TokenTrie())
                node.value = str(value)
        return root

    def _notes(self, letters: str) -> tuple[_TokenTrie, _TokenTrie]:
        root = _TokenTrie()
        for letter in letters:
            for form in (letter.upper(), letter):
                node = root
                for token in self._ids(" " + form):
                    node = node.children.setdefault(token, _TokenTrie())
                node.value = letter.upper()
        return root, root

    def start(self) -> Hypothesis:
        return Hypothesis(_trie())

    def expand(self, hyp: Hypothesis) -> list[tuple[int, Hypothesis]]:
        """Every (token, hypothesis after it) allowed from ``hyp``; ``self.eot`` marks a finished command."""
        if hyp.is_closed:
            return [(self.eot, hyp)]
        if hyp.spell:
            return [(hyp.spell[0], _replace(hyp, spell=hyp.spell[1:]))]
        if hyp.slot is not None:
            out = [(t, _replace(hyp, slot=child)) for t, child in hyp.slot.children.items()]
            if hyp.slot.value is not None:
                after = hyp.node.children[hyp.slot_word]
                closed = _replace(hyp, node=after, slot=None, slot_word="", words=(*hyp.words, hyp.slot.value))
                out += self._word_steps(closed)
            return out
        return self._word_steps(hyp)

    def _word_steps(self, hyp: Hypothesis) -> list[tuple[int, Hypothesis]]:
        first = not hyp.words
        out: list[tuple[int, Hypothesis]] = []
        for word, child in hyp.node.children.items():
            if word in self.slots:
                tries = self.slots[word]
                trie = tries[1] if first else tries[0]
                out += [(t, _replace(hyp, slot=n, slot_word=word)) for t, n in trie.children.items()]
                continue
            for spelling in self.spellings(word, first):
                out.append((spelling[0], _replace(hyp, node=child, spell=spelling[1:], words=(*hyp.words, word))))
        if hyp.node.ends and hyp.words:
            out += [(p, _replace(hyp, is_closed=True)) for p in self.punctuation]
            out.append((self.eot, hyp))
        return out

    def token_ids(self) -> list[int]:
        """Every token the language can write (the decoder normalises over at least these)."""
        ids = {self.eot, *self.punctuation}
        stack = [t for tries in self.slots.values() for t in tries]
        while stack:
            node = stack.pop()
            ids.update(node.children)
            stack.extend(node.children.values())
        words = {w for w, _ in _all_words(_trie())}
        for word in words - set(self.slots):
            for first in (False, True):
                for spelling in self.spellings(word, first):
                    ids.update(spelling)
        return sorted(ids)


def _all_words(node: _Node) -> list[tuple[str, _Node]]:
    out = []
    for word, child in node.children.items():
        out.append((word, child))
        out += _all_words(child)
    return out


def _replace(hyp: Hypothesis, **changes: object) -> Hypothesis:
    return hyp._replace(**changes)  # type: ignore[arg-type]


def beam_search(
    decoder: WhisperDecoder,
    language: CommandLanguage,
    state: DecoderState,
    log_probs: np.ndarray,
    beam: int = 4,
    length_penalty: float = 0.0,
    patience: float = 0.0,
    free_tokens: int = 0,
) -> tuple[list[Hypothesis], FreeReading]:
    """Finished commands, best first, and (with ``free_tokens`` > 0) the free greedy reading of the same audio.

    ``state`` and ``log_probs`` come from ``decoder.start``. The free reading rides in the same batch as the
    command hypotheses (one extra row), so it costs no extra decoder calls.
    """
    alive = [language.start()]
    finished: list[Hypothesis] = []
    free = FreeReading(is_done=free_tokens <= 0)
    free_row = 0
    eot_column = decoder.index[language.eot]
    for _ in range(max(MAX_TOKENS, free_tokens)):
        options = _options(decoder, language, alive, log_probs, finished)
        if not free.is_done:  # a sentence end closes the free reading too: what follows would be a loop
            is_closing = bool(free.tokens) and free.tokens[-1] in language.punctuation
            column = eot_column if is_closing else int(np.argmax(log_probs[free_row]))
            free.tokens.append(int(decoder.vocab_ids[column]))
            free.score += float(log_probs[free_row, column])
            free.is_done = column == eot_column or len(free.tokens) >= free_tokens
        best_done = max((h.score for h in finished), default=-np.inf)
        if not options or best_done - patience >= options[0][0]:
            options = []
            if free.is_done:
                break
        options = _distinct(options, beam)
        alive = [_replace(after, score=score, length=alive[row].length + 1) for score, row, _, after in options]
        rows = [row for _, row, _, _ in options]
        tokens = [token for _, _, token, _ in options]
        if not free.is_done:
            rows.append(free_row)
            tokens.append(free.tokens[-1])
            free_row = len(rows) - 1
        state, log_probs = decoder.step(
            state.select(np.asarray(rows, dtype=np.int64)), np.asarray(tokens, dtype=np.int64)[:, None]
        )
    ranked = sorted(finished, key=lambda h: -h.score / max(1, h.length) ** length_penalty)
    return ranked, free


def _distinct(options: list[tuple[float, int, int, Hypothesis]], beam: int) -> list[tuple[float, int, int, Hypothesis]]:
    """The ``beam`` best options that stand at different places in the grammar.

    " Tune" and " tune" (or "tempo 80" and "tempo eighty" once written) lead to the same grammar state; keeping
    both would fill the beam with spellings of one command and push out a different command ("tuning note").
    Only the better-scoring spelling of each state is kept (options arrive best first).
    """
    kept: list[tuple[float, int, int, Hypothesis]] = []
    seen: set[tuple[object, ...]] = set()
    for option in options:
        after = option[3]
        key = (id(after.node), after.spell, id(after.slot), after.slot_word, after.words, after.is_closed)
        if key in seen:
            continue
        seen.add(key)
        kept.append(option)
        if len(kept) == beam:
            break
    return kept


def _options(
    decoder: WhisperDecoder,
    language: CommandLanguage,
    alive: list[Hypothesis],
    log_probs: np.ndarray,
    finished: list[Hypothesis],
) -> list[tuple[float, int, int, Hypothesis]]:
    """Every scored continuation of the live hypotheses, best first; finished commands go to ``finished``."""
    options: list[tuple[float, int, int, Hypothesis]] = []
    for row, hyp in enumerate(alive):
        for token, after in language.expand(hyp):
            column = decoder.index.get(token)
            if column is None:
                continue
            score = hyp.score + float(log_probs[row, column])
            if token == language.eot:
                finished.append(_replace(after, score=score, length=hyp.length + 1))
            else:
                options.append((score, row, token, after))
    options.sort(key=lambda item: -item[0])
    return options
