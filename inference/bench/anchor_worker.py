"""Run CPJKU's pymatchmaker followers on audio files; executed by the interpreter that has pymatchmaker.

pymatchmaker pins numpy < 2, so it lives in its own virtual environment and this script imports nothing from
Etude. It reads a JSON list of jobs on stdin (``score_path``, ``audio_path``, ``bpm``, ``method``) and writes
one JSON line per job: for each distinct score onset (in quarters from the first) the audio time at which the
follower first reported reaching it, and the CPU time each frame cost (feature extraction + follower step).

partitura downloads a soundfont from the internet when its module is first imported and the file is missing;
before importing, this script points that path at a local soundfont (``ANCHOR_SOUNDFONT``), which the
anchors' score rendering then uses.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

LOCAL_SOUNDFONTS = ("/usr/share/sounds/sf2/TimGM6mb.sf2", "/usr/share/sounds/sf2/FluidR3_GM.sf2")
PARTITURA_SOUNDFONT = "MuseScore_General.sf3"


def point_partitura_at_local_soundfont() -> str:
    """Make partitura's default soundfont path a link to a local soundfont; returns the soundfont used."""
    spec = importlib.util.find_spec("partitura")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("partitura is not installed in this interpreter")
    target = Path(list(spec.submodule_search_locations)[0]) / "assets" / PARTITURA_SOUNDFONT
    wanted = os.environ.get("ANCHOR_SOUNDFONT") or next((s for s in LOCAL_SOUNDFONTS if Path(s).is_file()), "")
    if not wanted:
        raise RuntimeError(f"no local soundfont found (tried {', '.join(LOCAL_SOUNDFONTS)}); set ANCHOR_SOUNDFONT")
    if target.is_symlink() and os.readlink(target) != wanted:
        target.unlink()
    if not target.exists():
        target.symlink_to(wanted)
    return wanted


_CALL_SECONDS: dict[type, list[float]] = {}


def _timed(cls: type) -> list[float]:
    """Record the thread CPU time of every call of ``cls.__call__``; returns the (emptied) list it fills."""
    if cls not in _CALL_SECONDS:
        store: list[float] = []
        original = cls.__call__

        def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
            began = time.thread_time()
            result = original(self, *args, **kwargs)
            store.append(time.thread_time() - began)
            return result

        cls.__call__ = timed  # type: ignore[method-assign]
        _CALL_SECONDS[cls] = store
    _CALL_SECONDS[cls].clear()
    return _CALL_SECONDS[cls]


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    from matchmaker import Matchmaker

    began = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        mm = Matchmaker(
            score_file=job["score_path"],
            performance_file=job["audio_path"],
            input_type="audio",
            method=job["method"],
            tempo=float(job["bpm"]),
            unfold_score=False,
        )
        feature_s = _timed(type(mm.processor))
        step_s = _timed(type(mm.score_follower))
        hop_s = mm.hop_length / float(mm.sample_rate)
        path: list[tuple[float, float]] = []
        for beat in mm.run(verbose=False):
            # The decision for a frame is made once the audio up to the end of its newest hop has arrived:
            # perf_time counts from the first emitted frame, which already holds two hops of audio.
            path.append((float(beat), mm.score_follower.current_perf_time + 2 * hop_s))
    notes = mm.score_part.note_array()
    beats, first = np.unique(notes["onset_beat"], return_index=True)
    quarters = notes["onset_quarter"][first]
    reached: list[float | None] = [None] * len(beats)
    for beat, t in path:
        for i in np.flatnonzero(beats <= beat + 1e-6):
            if reached[i] is None:
                reached[i] = t
    # The same with pymatchmaker's own frame times (perf_time), for comparison with its published figures.
    labelled = [None if r is None else r - 2 * hop_s for r in reached]
    n = min(len(feature_s), len(step_s))
    frame_ms = (1000.0 * (np.array(feature_s[-n:]) + np.array(step_s[-n:]))).tolist() if n else []
    return {
        "onset_q": (quarters - quarters.min()).tolist(),
        "reached_s": reached,
        "reached_label_s": labelled,
        "frame_ms": frame_ms,
        "hop_s": hop_s,
        "wall_s": time.perf_counter() - began,
    }


def main() -> None:
    warnings.simplefilter("ignore")
    soundfont = point_partitura_at_local_soundfont()
    jobs = json.loads(sys.stdin.read())
    for job in jobs:
        try:
            result = run_job(job)
        except Exception as exc:  # report and go on: one failing piece must not lose the others
            result = {"error": f"{type(exc).__name__}: {exc}"}
        result.update(method=job["method"], key=job.get("key"), soundfont=soundfont)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
