"""The default recogniser: Whisper tiny.en constrained to the command grammar, with pocketsphinx beside it.

1. CTranslate2 encodes the utterance once; Whisper's no-speech estimate is computed in CTranslate2's threads
   while the steps below run.
2. ``constrained.beam_search`` reads the same encoder output with the NumPy decoder, allowed to write only
   commands of ``grammar.TEMPLATES``: "go to my five" cannot be written, "go to bar five" can. Whisper's own
   unconstrained (vocabulary-restricted, greedy) reading rides in the same batch.
3. pocketsphinx with the same grammar (an independent acoustic model) hears the same audio; in the live
   listener it runs while the learner speaks (``open_stream``), so its answer is ready at the pause. Its
   command is scored by Whisper too (teacher-forced), so both engines' candidates are ranked on one scale.
4. Commands of the beam that differ from Whisper's best only in a number or note ("bar 19" / "bar 90") are
   read again without the vocabulary prompt (same encoder output, a few decoder steps): the prompt's
   example numbers sway tiny.en, and "-teen"/"-ty" is where both engines mishear most.
5. ``decide`` (rules in its docstring) picks a command or rejects the utterance, and the learner hears
   "didn't catch that" instead of a wrong action.
Thresholds were chosen on a development set of phrasings and voices that the benchmark does not use.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from inference.speech.grammar import number_words
from inference.speech.intents import parse
from inference.speech.numbers import words_to_numbers
from inference.speech.recognizer import Transcript
from inference.speech.rivals import differs_only_in_values, spelling_distance
from inference.types import SAMPLE_RATE


@functools.cache
def _blas_controller() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries (finding them reads /proc: once, not per decode)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@dataclass(frozen=True)
class GrammarSettings:
    beam: int = 3
    patience: float = 2.0
    """Keep searching while a partial command is within this many nats of the best finished one."""
    length_penalty: float = 1.0
    """Finished commands are ranked by total log-probability / tokens ** this."""
    max_gap: float = 0.35
    """Largest (free − constrained) mean log-probability per token at which Whisper's command stands alone."""
    min_alone_mean: float = -1.3
    """... and its own mean log-probability per token must reach this: on a short tail of music after a
    command tiny.en writes "I'm done." at about −1.6, and its free reading there is no better."""
    second_opinion: bool = True
    """Ask pocketsphinx (same grammar); without it only ``max_gap`` decides."""
    sphinx_in_beam: float = 0.8
    """pocketsphinx's command wins when Whisper's beam found it this close to its best."""
    sphinx_rescored: float = 0.35
    """... or, not in the beam, when Whisper's teacher-forced score for it is this close to its best."""
    sphinx_same_command: float = 0.05
    """... but when it is Whisper's best command with another setting ("bar 40" / "bar 14", "on" / "off"),
    only this close: pocketsphinx mishears numbers and notes as often as Whisper does."""
    reread_margin: float = 0.6
    """Rivals within this (mean log-probability per token) of Whisper's best get the second reading."""
    reread_weight: float = 2.0
    """A rival's rank in the second reading: its mean + this × its mean read without the prompt."""
    max_spelling_distance: float = 0.2
    """A rejected utterance whose free reading is spelt this close to a candidate (edits per character,
    ``rivals.spelling_distance``) is that candidate: "Counting off." is "count in off"."""


@dataclass(frozen=True)
class Candidate:
    """A command for the utterance: its words (grammar form) and Whisper's mean log-probability per token."""

    words: str
    mean: float
    intent: dict[str, Any]


@dataclass(frozen=True)
class Evidence:
    """What the engines heard in one utterance; ``decide`` turns it into a transcript."""

    free_text: str
    free_mean: float
    no_speech: float
    candidates: tuple[Candidate, ...]
    """Grammar commands Whisper's beam found, best first, one per intent."""
    sphinx: Candidate | None = None
    """pocketsphinx's command, scored by Whisper; None when not asked or it heard no command."""


class GrammarWhisperRecognizer:
    """``transcribe(samples) -> Transcript`` whose text is a grammar command, or ``is_rejected`` speech."""

    def __init__(self, settings: GrammarSettings | None = None) -> None:
        from inference.speech.constrained import CommandLanguage
        from inference.speech.decoder import WhisperDecoder
        from inference.speech.whisper import WhisperRecognizer, whisper_model_dir

        self.settings = settings or GrammarSettings()
        self._free = WhisperRecognizer(beam_size=1)
        tokenizer = self._free.tokenizer
        self._language = CommandLanguage(tokenizer)
        vocabulary = sorted(set(self._free.allowed_tokens) | set(self._language.token_ids()))
        self._decoder = WhisperDecoder(whisper_model_dir(), vocabulary)
        self._prompt = self._free.prompt_ids
        self._bare_prompt = self._prompt[self._prompt.index(tokenizer.vocab["<|startoftranscript|>"]) :]
        self._sphinx: Any = None
        if self.settings.second_opinion:
            from inference.speech.sphinx import SphinxRecognizer

            self._sphinx = SphinxRecognizer(grammar=True, posterior=False)
        self.name = "whisper-tiny.en+grammar" + ("+sphinx" if self.settings.second_opinion else "")

    def open_stream(self) -> Any:
        """A pocketsphinx stream for an utterance that is starting (None without a second opinion or when all
        its decoders are busy: ``transcribe`` then runs pocketsphinx on the whole audio)."""
        return self._sphinx.open_stream() if self._sphinx is not None else None

    def transcribe(self, samples: np.ndarray, stream: Any = None) -> Transcript:
        """``stream``: the utterance's ``SphinxStream``, already fed with ``samples`` (it stays open)."""
        started = time.perf_counter()
        audio = np.asarray(samples, dtype=np.float32).reshape(-1)
        evidence = self.listen(audio, stream)
        transcript = decide(evidence, self.settings, self.name)
        return replace(transcript, decode_ms=(time.perf_counter() - started) * 1000.0)

    def listen(self, audio: np.ndarray, stream: Any = None) -> Evidence:
        """Encode once; the grammar beam search and the free reading share the decoder batch; pocketsphinx's
        command is scored with the same decoder state."""
        from inference.speech.constrained import beam_search
        from inference.speech.whisper import TOKENS_PER_SECOND, collapse_repeats

        s = self.settings
        sphinx = None
        with _blas_controller().limit(limits=1, user_api="blas"):  # tiny matrices: threads only contend
            encoded, no_speech = self._free.encode(audio)  # computed alongside the decoding below
            state, log_probs = self._decoder.start(encoded, self._prompt)
            free_tokens = int(8 + TOKENS_PER_SECOND * max(len(audio) / SAMPLE_RATE, 1.0))
            found, free = beam_search(
                self._decoder, self._language, state, log_probs, s.beam, s.length_penalty, s.patience, free_tokens
            )
            if self._sphinx is not None:
                words = stream.hypothesis() if stream is not None else self._sphinx.transcribe(audio).text
                sphinx = self._rescore(words, state, log_probs)
            tokenizer = self._free.tokenizer
            candidates: dict[str, Candidate] = {}
            for hyp in found:
                intent = parse(hyp.text).to_dict()
                key = repr(sorted(intent.items()))
                if intent["name"] != "unknown" and key not in candidates:
                    candidates[key] = Candidate(hyp.text, hyp.score / max(1, hyp.length), intent)
            ranked = self._reread(tuple(sorted(candidates.values(), key=lambda c: -c.mean)), state)
        return Evidence(
            free_text=collapse_repeats(tokenizer.decode(tokenizer.tokens(free.tokens)).strip()),
            free_mean=free.mean,
            no_speech=no_speech(),
            candidates=ranked,
            sphinx=sphinx,
        )

    def _reread(self, ranked: tuple[Candidate, ...], state: Any) -> tuple[Candidate, ...]:
        """``ranked`` with the winner of the second reading first: Whisper's best and the commands of its beam
        that differ from it only in a number or note, scored again without the prompt. (pocketsphinx's own
        number is left to ``decide``: it becomes confirmed by winning here, and it is wrong too often.)"""
        if not ranked:
            return ranked
        best, s = ranked[0], self.settings
        rivals = [
            c
            for c in ranked[1:]
            if differs_only_in_values(c.intent, best.intent) and best.mean - c.mean <= s.reread_margin
        ]
        if not rivals:
            return ranked
        bare_state, bare_log_probs = self._decoder.restart(state, self._bare_prompt)
        family = [best, *rivals]
        rank = [c.mean + s.reread_weight * self._mean_score(said(c.words), bare_state, bare_log_probs) for c in family]
        winner = family[int(np.argmax(rank))]
        return ranked if winner is best else (winner, *(c for c in ranked if c is not winner))

    def _mean_score(self, forms: list[str], state: Any, log_probs: np.ndarray) -> float:
        """Whisper's best mean log-probability per token over the spellings ``forms`` of one command."""
        vocab, tokenizer = self._free.tokenizer.vocab, self._free.tokenizer
        spelt = [[vocab[t] for t in tokenizer.encode(" " + sentence(form))] + [self._language.eot] for form in forms]
        totals = self._decoder.score_all(state, log_probs, spelt)
        return float(max(total / len(ids) for total, ids in zip(totals, spelt, strict=True)))

    def _rescore(self, words: str, state: Any, log_probs: np.ndarray) -> Candidate | None:
        """pocketsphinx's command with Whisper's mean log-probability for it (its best-scored spelling)."""
        intent = parse(words)
        if not intent.is_command:
            return None
        best = self._mean_score(spellings(words), state, log_probs)
        return Candidate(" ".join(spellings(words)[-1].split()), best, intent.to_dict())


def decide(evidence: Evidence, settings: GrammarSettings, engine: str) -> Transcript:
    """The command to act on, or a rejection:

    - pocketsphinx hears Whisper's best command → it stands, confirmed;
    - unless the free reading backs Whisper's best, pocketsphinx's command wins when Whisper's beam found
      it within ``sphinx_in_beam``, or scores it within ``sphinx_rescored``, of its best (confirmed); within
      ``sphinx_same_command`` when it is the same command with another setting;
    - Whisper's best stands alone when it explains the audio within ``max_gap`` of the free reading and
      its mean reaches ``min_alone_mean``;
    - what is left is rejected, unless the free reading is spelt within ``max_spelling_distance`` of a
      candidate (pocketsphinx's included) and its own mean reaches ``min_alone_mean``: that candidate then
      stands alone.
    """
    s = settings
    heard = Transcript(
        text=evidence.free_text,
        confidence=round(math.exp(evidence.free_mean), 4),
        no_speech_prob=round(evidence.no_speech, 4),
        decode_ms=0.0,
        engine=engine,
    )
    other = evidence.sphinx

    def accept(command: Candidate, is_confirmed: bool) -> Transcript:
        confidence = round(math.exp(command.mean), 4)
        return replace(heard, text=sentence(command.words), confidence=confidence, is_confirmed=is_confirmed)

    def rescue() -> Transcript:
        pool = [*evidence.candidates, *([other] if other is not None else [])]
        if evidence.free_text and pool and evidence.free_mean >= s.min_alone_mean:
            nearest = min(pool, key=lambda c: (spelling_distance(evidence.free_text, c.words), -c.mean))
            if spelling_distance(evidence.free_text, nearest.words) <= s.max_spelling_distance:
                return accept(nearest, False)
        return replace(heard, is_rejected=True)

    if not evidence.candidates:
        if other is not None and evidence.free_mean - other.mean <= s.max_gap:
            return accept(other, True)
        return rescue()
    best = evidence.candidates[0]
    if other is not None and other.intent == best.intent:
        return accept(best, True)
    if other is not None and parse(evidence.free_text).to_dict() != best.intent:
        in_beam = next((c for c in evidence.candidates if c.intent == other.intent), None)
        is_same_command = other.intent["name"] == best.intent["name"]
        in_beam_margin = s.sphinx_same_command if is_same_command else s.sphinx_in_beam
        rescored_margin = s.sphinx_same_command if is_same_command else s.sphinx_rescored
        if in_beam is not None and in_beam.mean >= best.mean - in_beam_margin:
            return accept(in_beam, True)
        if in_beam is None and other.mean >= best.mean - rescored_margin:
            return accept(other, True)
    if evidence.free_mean - best.mean <= s.max_gap and best.mean >= s.min_alone_mean:
        return accept(best, False)
    return rescue()


def spellings(words: str) -> list[str]:
    """pocketsphinx's lower-case words as Whisper would write them: numbers in words, then in digits
    (when there are any); "I", and note letters in capitals ("play an e flat" → "play an E flat")."""
    out: list[str] = []
    for word in words.split():
        previous = out[-1] if out else ""
        if word in ("i", "i'm") or (len(word) == 1 and (word != "a" or previous == "an")):
            word = word.capitalize()
        out.append(word)
    spelt = " ".join(out)
    digits = " ".join(words_to_numbers(out))
    return [spelt] + ([digits] if digits != spelt else [])


def said(words: str) -> list[str]:
    """A grammar command's spellings: as the beam wrote it, and with its numbers in words ("tempo 140" →
    "tempo one hundred and forty", "tempo one hundred forty"); the second reading keeps the best."""
    spelt = " ".join(" ".join(number_words(int(w))) if w.isdigit() else w for w in words.split())
    return list(dict.fromkeys((words, spelt, spelt.replace(" and ", " "))))


def sentence(words: str) -> str:
    """A grammar command as a person would write it: "go to bar 5" → "Go to bar 5."."""
    return words[:1].upper() + words[1:] + "." if words else ""
