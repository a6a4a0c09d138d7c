"""The lesson vocabulary of the free (n-best) Whisper setups: the words of a JSGF command grammar.

The free decoders are restricted to the tokens of these words (``command_words``), so they can only spell
lesson commands, numbers and punctuation. The full command language (templates that constrained decoding
and pocketsphinx use) is ``grammar.py``; this older word list is kept so the setups stay comparable.
"""

from __future__ import annotations

import re
from functools import cache

_UNITS = "one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()

EXTRA_WORDS = {"metronome": "M EH T R AH N OW M", "bpm": "B IY P IY EH M"}
"""Lesson words missing from CMUdict, in its ARPAbet phones."""

COMMAND_GRAMMAR = f"""#JSGF V1.0;
grammar etude;
<unit> = {" | ".join(_UNITS)};
<teen> = {" | ".join(_TEENS)};
<tens> = {" | ".join(_TENS)};
<below100> = <unit> | <teen> | <tens> [<unit>];
<number> = <below100> | [one | a] hundred [and] [<below100>] | <unit> <tens> [<unit>];
<bar> = bar | bars | measure | measures;
<lead> = from | go to | jump to | start at | back to | take it from | again from | skip to;
<seek> = [<lead>] <bar> <number>;
<loop> = (loop | repeat | practice | practise | drill) [from] [<bar>] <number> (to | through | until) [<bar>] <number>;
<tempo> = (tempo | speed | set the tempo to | set tempo to) <number> [bpm] | <number> (bpm | beats per minute)
        | [a bit | a little] (slower | faster) | slow down | speed up | too fast | too slow | slow it down;
<metronome> = (metronome | click) (on | off) | no metronome
        | (turn on | turn off | switch on | switch off | stop | start) the (metronome | click);
<count> = count me in | count in | [give me a] count in | no count in | count in off;
<tune> = tuning note | reference pitch | tune
        | (give me | play) (a | an) (a | b | c | d | e | f | g) [flat | sharp];
<restart> = start again | start over | restart | from the top | from the beginning | begin again;
<nav> = [go to the] next [exercise | lesson | one | piece] | move on | skip
        | previous [exercise | lesson | one] | go back | back one | go back to the last (exercise | lesson);
<flow> = repeat | repeat that | again | one more time | play it again | pause | hold on | wait
       | hold on a second | resume | continue | keep going | carry on
       | stop | stop recording | stop looping | that's enough | i'm done;
<summary> = how did i do | how was that | show [me] my results | summary | results;
public <command> = [ok | okay | please | can we] (<seek> | <loop> | <tempo> | <metronome> | <count> | <tune>
        | <restart> | <nav> | <flow> | <summary>) [please];
"""


@cache
def command_words() -> frozenset[str]:
    """Every word a command can contain (lower case), read from the grammar's right-hand sides."""
    bodies = [line.split("=", 1)[1] for line in COMMAND_GRAMMAR.split(";") if "=" in line]
    return frozenset(re.findall(r"[a-z']+", " ".join(re.sub(r"<[^>]+>", " ", b) for b in bodies)))
