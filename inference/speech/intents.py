"""Spoken text → a lesson command (``Intent``), with the names and slots fixed in DESIGN.md.

``seek`` {measure}, ``restart``, ``tempo`` {bpm} or {change: "slower"|"faster"}, ``loop`` {start, end},
``metronome`` {on}, ``next``, ``previous``, ``repeat``, ``pause``, ``resume``, ``stop``, ``summary`` and
``unknown``; added here: ``count_in`` {on, bars?}, ``tune`` {note} (play a reference pitch) and
``loop_off``. Rules are ordered from the most specific ("stop the metronome") to the most general ("stop"),
and an utterance must be mostly command words: "I think we should stop" is a command, a long sentence that
happens to contain "next" is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from inference.speech.numbers import ORDINALS, words_to_numbers

MIN_BPM, MAX_BPM = 20, 300
MAX_MEASURE = 9999
MIN_COVERAGE = 0.6
"""Share of an utterance's (non-filler) words a rule must account for, or it is not taken as a command."""
KEYWORDS = frozenset(
    "loop looping tempo bpm metronome click count bar bars measure measures tuning reference next previous "
    "slower faster stop pause resume".split()
)
"""Words that name a command: one left over outside the matched phrase makes the utterance ambiguous."""

INTENT_NAMES = (
    "seek", "restart", "tempo", "loop", "loop_off", "metronome", "count_in", "tune", "next", "previous",
    "repeat", "pause", "resume", "stop", "summary", "unknown",
)  # fmt: skip

FILLERS = frozenset(
    "please ok okay alright now hey etude um uh erm so just can could would you we let's lets me us i "
    "the a an to it this that again? right well".replace("again?", "").split()
)
_OFF = r"(off|stop|no|without|disable|mute|kill|cancel|quiet|silence|away)"
_BAR = r"(bar|bars|measure|measures|bah|ba)"
_NUM = r"(\d+)"


@dataclass(frozen=True)
class Intent:
    """A command: ``name`` plus its slots; ``confidence`` in 0..1 says how sure the parse is."""

    name: str
    slots: dict[str, Any] = field(default_factory=dict)
    confidence: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """The protocol form: ``{"name": ..., **slots}`` (confidence travels beside it, not inside)."""
        return {"name": self.name, **self.slots}

    @property
    def is_command(self) -> bool:
        return self.name != "unknown"


UNKNOWN = Intent("unknown", confidence=0.0)


def normalise(text: str) -> list[str]:
    """Lower-case words with punctuation dropped and spoken numbers turned into digits."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"(\d+)\s*[-–]\s*(\d+)", r"\1 to \2", text)  # "bars 3-6"
    text = re.sub(r"\b([1-9])00,? and (\d\d?)\b", lambda m: str(int(m[1]) * 100 + int(m[2])), text)  # "100 and 20"
    text = text.replace("-", " ")
    text = re.sub(r"(\d+)\s*(?:bpm)\b", r"\1 bpm", text)
    text = re.sub(r"[^a-z0-9' #♯♭]+", " ", text)
    return words_to_numbers(text.split())


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: re.Pattern[str]
    build: Any  # Callable[[re.Match[str]], dict[str, Any] | None]


def _rule(name: str, pattern: str, build: Any = None) -> _Rule:
    return _Rule(name, re.compile(pattern), build or (lambda m: {}))


def _measure(m: re.Match[str]) -> dict[str, Any] | None:
    measure = int(m.group("n"))
    return {"measure": measure} if 1 <= measure <= MAX_MEASURE else None


def _loop(m: re.Match[str]) -> dict[str, Any] | None:
    start, end = sorted((int(m.group("a")), int(m.group("b"))))
    return {"start": start, "end": end} if 1 <= start and end <= MAX_MEASURE else None


def _bpm(m: re.Match[str]) -> dict[str, Any] | None:
    bpm = int(m.group("n"))
    return {"bpm": bpm} if MIN_BPM <= bpm <= MAX_BPM else None


def _count_in(m: re.Match[str]) -> dict[str, Any]:
    slots: dict[str, Any] = {"on": True}
    bars = m.group("bars")
    if bars and 1 <= int(bars) <= 8:
        slots["bars"] = int(bars)
    return slots


def _note(m: re.Match[str]) -> dict[str, Any]:
    letter = (m.groupdict().get("note") or "a").upper()
    accidental = m.groupdict().get("acc") or ""
    return {"note": letter + {"flat": "b", "sharp": "#", "♭": "b", "♯": "#", "#": "#"}.get(accidental, "")}


def _any(*alternatives: str) -> str:
    """A word-bounded regex matching any of ``alternatives`` (each itself a regex)."""
    return r"\b(" + "|".join(alternatives) + r")\b"


_SEEK_LEAD = r"(from|go to|goto|jump to|skip to|start at|start from|begin at|back to|take it from|at|to)"
_ONE = r"(one|1)"
_PIECE = r"( exercise| lesson| one| 1| piece| tune| song)"
RULES: tuple[_Rule, ...] = (
    _rule("loop_off", _any(r"(stop|no|cancel|end|turn off|clear|without)( the)? (loop|looping)", r"loop(ing)? off")),
    _rule(
        "loop",
        rf"\b(loop|repeat|practice|practise|drill)\b( from)?( {_BAR})? (?P<a>\d+) (to|through|thru|till|until|and)"
        rf"( {_BAR})? (?P<b>\d+)\b",
        _loop,
    ),
    _rule(
        "metronome",
        _any(rf"{_OFF}( the)? (metronome|click)", rf"((turn|switch)( the)? )?(metronome|click) {_OFF}"),
        lambda m: {"on": False},
    ),
    _rule(
        "metronome",
        _any(
            r"(turn|switch|put) on( the)? (metronome|click)",
            r"(turn|switch|put)( the)? (metronome|click) on",
            r"(start|enable|give me|i need)( the| a)? (metronome|click)",
            r"(metronome|click)( (on|please|back on))?",
        ),
        lambda m: {"on": True},
    ),
    _rule("count_in", _any(rf"{_OFF}( the)? count ?(me )?in", rf"count ?(me )?in {_OFF}"), lambda m: {"on": False}),
    _rule("count_in", _any(r"(give me )?(a )?count ?(me )?in( on)?( (?P<bars>\d+) bars?)?"), _count_in),
    _rule(
        "tune",
        _any(
            r"tuning( note| pitch| tone)?",
            r"tune( up)?",
            r"reference (pitch|note|tone)",
            r"(give me|play) (an?|the) (?P<note>[a-g])( (?P<acc>flat|sharp))?( note)?",
            r"concert a",
        ),
        _note,
    ),
    _rule("tempo", _any(r"(set|change|make|put)( the)? (tempo|speed)( to| at)? (?P<n>\d+)"), _bpm),
    _rule("tempo", _any(r"(tempo|speed|bpm|beats per minute)( to| at| of| is)? (?P<n>\d+)( bpm)?"), _bpm),
    _rule("tempo", _any(r"(?P<n>\d+) (bpm|beats per minute|beats a minute)"), _bpm),
    _rule("tempo", _any(r"play(ing)? at (?P<n>\d+)"), _bpm),
    _rule(
        "tempo",
        _any(
            r"(a )?(bit |little |lot )?(slower|slow down)", r"slow it down", r"(too|so) fast", r"less fast", "ease off"
        ),
        lambda m: {"change": "slower"},
    ),
    _rule(
        "tempo",
        _any(
            r"(a )?(bit |little |lot )?(faster|speed up)",
            r"speed it up",
            r"(too|so) slow",
            "quicker",
            "pick up the pace",
        ),
        lambda m: {"change": "faster"},
    ),
    _rule(
        "restart",
        _any(
            r"start (again|over|from the (top|beginning|start))",
            "restart",
            r"(begin|start) again",
            r"((start|go) )?(back )?(to|from) the (top|beginning|start)",
        ),
    ),
    _rule("seek", _any(rf"((again |once more |play )?{_SEEK_LEAD} )?{_BAR} (?P<n>\d+)"), _measure),
    _rule("seek", _any(rf"{_SEEK_LEAD} (the )?(?P<n>\d+)(th|st|nd|rd)? {_BAR}"), _measure),
    _rule(
        "summary",
        _any(
            r"how (did|do) i do",
            r"how was (that|it|i)",
            "how am i doing",
            r"how did (that|it) go",
            r"(show|see)( me)?( my| the)? (results|score|summary)",
            r"my (results|score)",
            "summary",
            "results",
            "feedback",
        ),
    ),
    _rule("next", _any(rf"(go to |on to )?(the )?next{_PIECE}?( please)?", "move on", rf"skip( this| it)?( {_ONE})?")),
    _rule(
        "previous",
        _any(
            rf"(go )?(back )?(to )?(the )?(previous|last){_PIECE}", "previous", rf"go back( {_ONE})?", rf"back {_ONE}"
        ),
    ),
    _rule("resume", _any("resume", "continue", "carry on", "keep going", "unpause", "go on", "play on")),
    _rule(
        "pause",
        _any(
            r"pause( it| please)?",
            rf"(hold|hang) on( a| {_ONE})?( (moment|second|sec))?",
            r"wait( a (moment|second|sec))?",
            "hold it",
            rf"{_ONE} (moment|second|sec)",
        ),
    ),
    _rule(
        "repeat",
        _any(
            r"repeat( that| this| it)?", r"(play it |play that |do (it|that) |try |once )?again", rf"{_ONE} more time"
        ),
    ),
    _rule(
        "stop",
        _any(
            r"stop( playing| recording| the take| listening| it)?",
            r"that's (it|enough)",
            r"i('m| am) done",
            r"finish(ed)?",
            r"end (the )?take",
            "enough",
        ),
    ),
)


def parse(text: str, *, asr_confidence: float = 1.0) -> Intent:
    """The intent of one utterance; ``unknown`` when no rule accounts for most of it."""
    words = normalise(text)
    content = [w for w in words if w not in FILLERS]
    if not content:
        return UNKNOWN
    joined = " ".join(words)
    for rule in RULES:
        match = rule.pattern.search(joined)
        if match is None:
            continue
        slots = rule.build(match)
        if slots is None:
            return UNKNOWN  # a command with an impossible number ("bar zero"): ask again, never guess
        coverage = _coverage(match.group(0).split(), content)
        if coverage < MIN_COVERAGE or _has_stray_keyword(joined, match):
            return UNKNOWN
        return Intent(rule.name, slots, round(min(1.0, coverage) * asr_confidence, 3))
    return UNKNOWN


def _has_stray_keyword(joined: str, match: re.Match[str]) -> bool:
    """True when a command word lies outside the match ("loop bars three" must not become "bar three")."""
    outside = (joined[: match.start()] + " " + joined[match.end() :]).split()
    return any(word in KEYWORDS for word in outside)


def _coverage(matched: list[str], content: list[str]) -> float:
    """How much of the utterance's content the matched phrase explains (1.0 = all of it)."""
    matched_content = [w for w in matched if w not in FILLERS]
    return max(len(matched_content), 1) / len(content)


def describe(intent: Intent) -> str:
    """A short line for people: what the page will do ("Tempo 80", "Loop bars 3–6", "Didn't catch that")."""
    s = intent.slots
    if intent.name == "seek":
        return f"From bar {s['measure']}"
    if intent.name == "tempo":
        return f"Tempo {s['bpm']}" if "bpm" in s else f"Tempo {s['change']}"
    if intent.name == "loop":
        return f"Loop bars {s['start']}–{s['end']}"
    if intent.name in ("metronome", "count_in"):
        label = "Metronome" if intent.name == "metronome" else "Count-in"
        return f"{label} {'on' if s['on'] else 'off'}"
    if intent.name == "tune":
        return f"Reference pitch {s['note']}"
    if intent.name == "unknown":
        return "Sorry, I didn't catch that."
    return {"loop_off": "Loop off", "next": "Next exercise", "previous": "Previous exercise"}.get(
        intent.name, intent.name.capitalize()
    )


__all__ = ["INTENT_NAMES", "Intent", "ORDINALS", "UNKNOWN", "describe", "normalise", "parse"]
