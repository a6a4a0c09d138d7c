"""The anchors: CPJKU's pymatchmaker followers (``arzt``, ``dixon``, ``skf``) run on the same audio.

pymatchmaker 0.3.0 requires numpy < 2 (its Cython extensions are built against numpy 1.x) while Etude runs
numpy 2, so it is installed in its own virtual environment (see docs/following.md) and driven through
``anchor_worker.py`` in a subprocess. The interpreter is ``$ETUDE_ANCHOR_PYTHON``, else
``var/anchor-venv/bin/python``. Without one the benchmark says so and runs without anchors.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.bench.performances import Performance
from inference.following.onsets import group_onsets
from inference.types import HOP_SECONDS

ANCHORS = {"mm_arzt": "arzt", "mm_dixon": "dixon", "mm_skf": "skf"}
ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).resolve().with_name("anchor_worker.py")


@dataclass
class AnchorRun:
    """First-reach times per onset group of one performance, and compute per 20 ms of audio."""

    group_reached_s: list[float | None]
    group_labelled_s: list[float | None]
    """The same with pymatchmaker's own frame times, two of its hops earlier than the decision could be made."""
    chunk_ms: np.ndarray
    """CPU ms per frame, scaled to a 20 ms chunk (the anchors' frames are 16-45 ms long)."""
    compute_s: float


def anchor_python() -> tuple[str | None, str]:
    """(interpreter that can import pymatchmaker, or None; a sentence saying which or why not)."""
    candidates = [os.environ.get("ETUDE_ANCHOR_PYTHON", ""), str(ROOT / "var" / "anchor-venv" / "bin" / "python")]
    for candidate in filter(None, candidates):
        if not Path(candidate).is_file():
            continue
        probe = subprocess.run(
            [candidate, "-c", "import importlib.util as u; print(bool(u.find_spec('matchmaker')))"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if probe.stdout.strip() == "True":
            return candidate, f"pymatchmaker found in {candidate}"
    return None, (
        "pymatchmaker is not installed: anchors skipped. Install it in its own environment (it needs numpy<2): "
        "python3 -m venv var/anchor-venv && var/anchor-venv/bin/pip install -r requirements-anchors.txt"
    )


def start_anchors(python: str, performances: Sequence[Performance], names: Sequence[str]) -> subprocess.Popen[str]:
    """Start the anchors on every performance in a subprocess (it runs while our followers run here)."""
    jobs = [
        {
            "key": f"{i}:{name}",
            "method": ANCHORS[name],
            "score_path": str(perf.score_path),
            "audio_path": str(perf.audio_path),
            "bpm": perf.score_bpm * perf.tempo_factor,
        }
        for i, perf in enumerate(performances)
        for name in names
    ]
    proc = subprocess.Popen(
        [python, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(jobs))
    proc.stdin.close()
    return proc


def collect_anchors(
    proc: subprocess.Popen[str], performances: Sequence[Performance], timeout_s: float = 7200.0
) -> dict[tuple[str, str], AnchorRun | str]:
    """Wait for the anchor subprocess; values are runs, or an error message, by (dataset/piece, anchor)."""
    assert proc.stdout is not None
    results: dict[tuple[str, str], AnchorRun | str] = {}
    with proc:
        for line in proc.stdout:
            if not line.startswith("{"):
                continue
            result = json.loads(line)
            index, name = result["key"].split(":")
            perf = performances[int(index)]
            key = (perf.dataset + "/" + perf.name, name)
            results[key] = result["error"] if "error" in result else _to_run(perf, result)
            print(f"  {name:9s} {key[0]}", file=sys.stderr, flush=True)
        proc.wait(timeout=timeout_s)
    return results


def _to_run(perf: Performance, result: dict) -> AnchorRun:  # type: ignore[type-arg]
    """Map the anchor's (onset quarter -> first-reach time) pairs onto our onset groups.

    A group is reached when the anchor first reported a position at or past its onset, i.e. the reach time
    of the first anchor onset at or after the group's (so a note the two parsers see differently still counts).
    """
    groups = group_onsets(perf.notes)
    origin = groups[0].onset_q
    onset_q = np.asarray(result["onset_q"], dtype=float)
    order = np.argsort(onset_q)
    onset_q = onset_q[order]
    mapped: dict[str, list[float | None]] = {}
    for field in ("reached_s", "reached_label_s"):
        reached_at = [result[field][i] for i in order]
        mapped[field] = []
        for group in groups:
            index = int(np.searchsorted(onset_q, group.onset_q - origin - 1e-3))
            mapped[field].append(reached_at[index] if index < len(reached_at) else None)
    frame_ms = np.asarray(result["frame_ms"], dtype=float)
    scale = HOP_SECONDS / float(result["hop_s"])
    return AnchorRun(
        group_reached_s=mapped["reached_s"],
        group_labelled_s=mapped["reached_label_s"],
        chunk_ms=frame_ms * scale,
        compute_s=float(frame_ms.sum()) / 1000,
    )
