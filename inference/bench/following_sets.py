"""Which performances the following benchmark plays, and the fixed subset the anchors also play.

Full run: 24 Nottingham melodies, the 44 Vienna 4x22 performances, K265 and 35 degraded takes (about two hours
of audio). pymatchmaker's followers run at roughly real time on this machine (``skf`` alone at a third of real
time), so in a full run the anchors play a fixed subset (about 33 minutes of audio), and every follower of ours
plays that subset too, in the same run, for the side-by-side table; ours also play the whole set:
- ``nottingham``: the first 8 melodies of the draw;
- ``vienna``: performers 1-3 of each of the four pieces (12 performances);
- ``k265``: the recording;
- ``degraded``: every degraded take of the first 2 melodies, of Schubert D783 by performer 1 and of K265.
Quick run: 20 s excerpts of 2 melodies and 2 piano performances, K265 and 3 degraded takes, all with anchors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inference.bench import degrade, performances
from inference.bench.performances import Performance

DATASETS = ("nottingham", "vienna", "k265", "degraded")
QUICK_EXCERPT_S = 20.0
NOTTINGHAM_TUNES = 24
VIENNA_PERFORMERS = range(1, 11)
"""Performer 11 is held out: the oltw follower's onset confirmation was tuned on its four performances."""
ANCHOR_TUNES = 8
ANCHOR_PERFORMERS = ("_p01", "_p02", "_p03")
ANCHOR_DEGRADED_BASES = 2
"""Degraded takes of this many melodies (plus Schubert D783 p01 and K265) are in the anchors' subset."""
ANCHOR_DEGRADED_PIANO = "Schubert_D783_no15_p01"


@dataclass
class BenchSet:
    performances: list[Performance]
    anchor_keys: set[str]
    """``dataset/name`` of the performances the anchors play (all of them in a quick run)."""

    @property
    def is_anchor_subset(self) -> bool:
        return len(self.anchor_keys) < len(self.performances)


def key_of(perf: Performance) -> str:
    return f"{perf.dataset}/{perf.name}"


def build(quick: bool, datasets: Sequence[str], anchors_on_all: bool = False) -> BenchSet:
    """The test set for ``datasets`` (see the module docstring)."""
    wanted = set(datasets)
    melodies = performances.nottingham(2 if quick else NOTTINGHAM_TUNES) if {"nottingham", "degraded"} & wanted else []
    pianos = performances.vienna([1] if quick else VIENNA_PERFORMERS) if {"vienna", "degraded"} & wanted else []
    k265 = performances.k265() if {"k265", "degraded"} & wanted else []
    if quick:
        melodies = [performances.excerpt(p, QUICK_EXCERPT_S) for p in melodies]
        pianos = [performances.excerpt(p, QUICK_EXCERPT_S) for p in pianos[:2]]
    found = [p for p in melodies + pianos + k265 if p.dataset in wanted]
    if "degraded" in wanted:
        found += degraded_set(quick, melodies, pianos, k265)
    if quick or anchors_on_all:
        return BenchSet(found, {key_of(p) for p in found})
    chosen = {key_of(p) for p in melodies[:ANCHOR_TUNES] + k265}
    chosen |= {key_of(p) for p in pianos if p.name.endswith(ANCHOR_PERFORMERS)}
    bases = [p.name for p in melodies[:ANCHOR_DEGRADED_BASES]] + [ANCHOR_DEGRADED_PIANO] + [p.name for p in k265]
    chosen |= {key_of(p) for p in found if p.dataset == "degraded" and p.name.rsplit("-", 1)[0] in bases}
    return BenchSet(found, {key_of(p) for p in found} & chosen)


def degraded_set(
    quick: bool, melodies: list[Performance], pianos: list[Performance], k265: list[Performance]
) -> list[Performance]:
    """Room + noise, wrong notes, a restart and skipped bars, on a few melodies, pianos and K265."""
    midi = {p.name: performances.cache_dir("nottingham") / f"{p.name}.mid" for p in melodies}
    vienna_midi = performances.DATA / "vienna4x22" / "midi"
    if quick:
        return [degrade.room_and_noise(k265[0]), degrade.restart(melodies[0]), degrade.skip(pianos[0])]
    bases = melodies[:4] + [p for p in pianos if p.name.endswith("_p01")] + k265
    found = []
    for base in bases:
        found += [degrade.room_and_noise(base), degrade.restart(base), degrade.skip(base)]
        if base.dataset == "nottingham":
            found.append(degrade.wrong_notes(base, midi[base.name]))
        elif base.dataset == "vienna":
            found.append(degrade.wrong_notes(base, vienna_midi / f"{base.name}.mid"))
    return found
