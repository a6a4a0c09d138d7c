"""The spoken-command set used by the speech benchmark and tests: what a learner says, and what it means.

Each entry is (words as said, expected intent). Numbers are written as words, the way they are spoken, so the
text doubles as the reference transcript for word error rate.
"""

from __future__ import annotations

from typing import Any

COMMAND_PHRASES: tuple[tuple[str, dict[str, Any]], ...] = (
    # seek
    ("again from bar twelve", {"name": "seek", "measure": 12}),
    ("go to bar five", {"name": "seek", "measure": 5}),
    ("start at measure nine", {"name": "seek", "measure": 9}),
    ("jump to bar twenty", {"name": "seek", "measure": 20}),
    ("take it from bar seven", {"name": "seek", "measure": 7}),
    ("from measure sixteen please", {"name": "seek", "measure": 16}),
    # restart
    ("start again", {"name": "restart"}),
    ("from the top", {"name": "restart"}),
    ("start over", {"name": "restart"}),
    ("restart please", {"name": "restart"}),
    ("back to the beginning", {"name": "restart"}),
    # tempo
    ("tempo eighty", {"name": "tempo", "bpm": 80}),
    ("set the tempo to one hundred and twenty", {"name": "tempo", "bpm": 120}),
    ("tempo sixty six", {"name": "tempo", "bpm": 66}),
    ("ninety beats per minute", {"name": "tempo", "bpm": 90}),
    ("tempo one hundred", {"name": "tempo", "bpm": 100}),
    ("slower", {"name": "tempo", "change": "slower"}),
    ("a bit slower please", {"name": "tempo", "change": "slower"}),
    ("slow down", {"name": "tempo", "change": "slower"}),
    ("faster", {"name": "tempo", "change": "faster"}),
    ("speed up", {"name": "tempo", "change": "faster"}),
    ("a little faster", {"name": "tempo", "change": "faster"}),
    # loop
    ("loop bars three to six", {"name": "loop", "start": 3, "end": 6}),
    ("loop measures ten to twelve", {"name": "loop", "start": 10, "end": 12}),
    ("loop bars one to four", {"name": "loop", "start": 1, "end": 4}),
    ("repeat bars five to eight", {"name": "loop", "start": 5, "end": 8}),
    ("practice bars two to three", {"name": "loop", "start": 2, "end": 3}),
    ("stop looping", {"name": "loop_off"}),
    # metronome
    ("metronome on", {"name": "metronome", "on": True}),
    ("turn on the metronome", {"name": "metronome", "on": True}),
    ("metronome off", {"name": "metronome", "on": False}),
    ("stop the metronome", {"name": "metronome", "on": False}),
    ("turn off the metronome", {"name": "metronome", "on": False}),
    # count-in
    ("count me in", {"name": "count_in", "on": True}),
    ("give me a count in", {"name": "count_in", "on": True}),
    ("count in two bars", {"name": "count_in", "on": True, "bars": 2}),
    ("no count in", {"name": "count_in", "on": False}),
    # reference pitch
    ("give me an A", {"name": "tune", "note": "A"}),
    ("tuning note", {"name": "tune", "note": "A"}),
    ("play a B flat", {"name": "tune", "note": "Bb"}),
    ("reference pitch please", {"name": "tune", "note": "A"}),
    # next / previous
    ("next exercise", {"name": "next"}),
    ("next lesson please", {"name": "next"}),
    ("move on", {"name": "next"}),
    ("previous exercise", {"name": "previous"}),
    ("go back to the last lesson", {"name": "previous"}),
    # repeat
    ("repeat that", {"name": "repeat"}),
    ("one more time", {"name": "repeat"}),
    ("play it again", {"name": "repeat"}),
    # pause / resume / stop
    ("pause", {"name": "pause"}),
    ("hold on a second", {"name": "pause"}),
    ("wait", {"name": "pause"}),
    ("resume", {"name": "resume"}),
    ("keep going", {"name": "resume"}),
    ("carry on", {"name": "resume"}),
    ("stop", {"name": "stop"}),
    ("stop recording", {"name": "stop"}),
    ("that's enough", {"name": "stop"}),
    # summary
    ("how did I do", {"name": "summary"}),
    ("show me my results", {"name": "summary"}),
    ("how was that", {"name": "summary"}),
    ("summary please", {"name": "summary"}),
    # not commands: speech the listener must answer with "didn't catch that", never an action
    ("the weather is lovely today", {"name": "unknown"}),
    ("I wonder what we're having for dinner", {"name": "unknown"}),
)

VOICES: tuple[tuple[str, int], ...] = (
    ("en-us", 160),
    ("en-gb-x-rp", 150),
    ("en-us+m3", 140),
    ("en-us+klatt", 175),
    ("en-gb+klatt2", 155),
    ("en-us+f2", 165),
)
"""espeak-ng voices (variant after '+') and speaking rates in words per minute: the benchmark's speakers."""

HARD_VOICES: tuple[tuple[str, int], ...] = (("en-029", 165), ("en-gb-scotland", 150), ("en-us+f3", 185))
"""Accents and a fast rate that Whisper tiny.en finds much harder on espeak's robotic voice (reported apart)."""


# -- development set ---------------------------------------------------------------------------------------
# The grammar decoder's thresholds (beam, patience, max_gap, second opinion, early close) were chosen on these
# phrasings and voices only; none of them is in COMMAND_PHRASES/VOICES, which the benchmark reports on.
# ``python -m inference.bench.speech --dev`` runs the benchmark on this set instead.
DEV_PHRASES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("go to bar eight", {"name": "seek", "measure": 8}),
    ("jump to measure thirty two", {"name": "seek", "measure": 32}),
    ("from bar nineteen", {"name": "seek", "measure": 19}),
    ("start at bar fourteen", {"name": "seek", "measure": 14}),
    ("skip to bar six", {"name": "seek", "measure": 6}),
    ("take it from measure three", {"name": "seek", "measure": 3}),
    ("again from bar forty", {"name": "seek", "measure": 40}),
    ("bar eleven", {"name": "seek", "measure": 11}),
    ("back to bar two", {"name": "seek", "measure": 2}),
    ("restart", {"name": "restart"}),
    ("start from the beginning", {"name": "restart"}),
    ("begin again", {"name": "restart"}),
    ("tempo ninety six", {"name": "tempo", "bpm": 96}),
    ("set the tempo to seventy", {"name": "tempo", "bpm": 70}),
    ("tempo one hundred and forty", {"name": "tempo", "bpm": 140}),
    ("seventy two beats per minute", {"name": "tempo", "bpm": 72}),
    ("tempo fifty", {"name": "tempo", "bpm": 50}),
    ("speed one twenty", {"name": "tempo", "bpm": 120}),
    ("a little slower", {"name": "tempo", "change": "slower"}),
    ("slow it down", {"name": "tempo", "change": "slower"}),
    ("a bit faster", {"name": "tempo", "change": "faster"}),
    ("speed it up", {"name": "tempo", "change": "faster"}),
    ("too fast", {"name": "tempo", "change": "slower"}),
    ("loop bars four to nine", {"name": "loop", "start": 4, "end": 9}),
    ("loop measures eleven to fifteen", {"name": "loop", "start": 11, "end": 15}),
    ("repeat bars two to five", {"name": "loop", "start": 2, "end": 5}),
    ("loop from bar seven to bar ten", {"name": "loop", "start": 7, "end": 10}),
    ("practice measures one to eight", {"name": "loop", "start": 1, "end": 8}),
    ("stop the loop", {"name": "loop_off"}),
    ("loop off", {"name": "loop_off"}),
    ("metronome off please", {"name": "metronome", "on": False}),
    ("turn off the click", {"name": "metronome", "on": False}),
    ("switch on the metronome", {"name": "metronome", "on": True}),
    ("click on", {"name": "metronome", "on": True}),
    ("no metronome", {"name": "metronome", "on": False}),
    ("count in", {"name": "count_in", "on": True}),
    ("count in four bars", {"name": "count_in", "on": True, "bars": 4}),
    ("count in off", {"name": "count_in", "on": False}),
    ("give me a D", {"name": "tune", "note": "D"}),
    ("play an E flat", {"name": "tune", "note": "Eb"}),
    ("reference pitch", {"name": "tune", "note": "A"}),
    ("tuning note please", {"name": "tune", "note": "A"}),
    ("next", {"name": "next"}),
    ("next piece", {"name": "next"}),
    ("go to the next exercise", {"name": "next"}),
    ("previous lesson", {"name": "previous"}),
    ("go back", {"name": "previous"}),
    ("repeat", {"name": "repeat"}),
    ("play that again", {"name": "repeat"}),
    ("pause please", {"name": "pause"}),
    ("hold on", {"name": "pause"}),
    ("continue", {"name": "resume"}),
    ("resume please", {"name": "resume"}),
    ("stop please", {"name": "stop"}),
    ("I'm done", {"name": "stop"}),
    ("how did that go", {"name": "summary"}),
    ("show me the summary", {"name": "summary"}),
    ("results please", {"name": "summary"}),
    ("how was it", {"name": "summary"}),
    ("my cat likes to sleep on the piano", {"name": "unknown"}),
    ("can you believe the traffic this morning", {"name": "unknown"}),
    ("I need to buy new strings", {"name": "unknown"}),
)
DEV_VOICES: tuple[tuple[str, int], ...] = (
    ("en-gb-x-gbclan", 155),
    ("en-us+m1", 150),
    ("en-us+f4", 160),
    ("en-us-nyc", 165),
    ("en-gb+klatt3", 150),
    ("en-gb-x-gbcwmd", 145),
)
