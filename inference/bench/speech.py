"""Voice-command benchmark: ``python -m inference.bench.speech --json [--quick]``.

Every phrasing of ``inference.speech.phrases`` is spoken by several espeak-ng voices and rates and streamed,
in 20 ms chunks, through the same ``CommandListener`` the live path uses: clean, over pink noise (10 dB SNR)
and over instrument music rendered from ../shared/data with FluidSynth (speech and music at equal level).
Each recogniser setup gets word error rate, intent accuracy and end-of-speech-to-intent latency; then the
listener hears only music (Nottingham tunes on ten General MIDI instruments and Vienna 4x22 piano
performances, 10 minutes in the full run) and every command it takes from it is a false command.
Latency counts the closing silence the VAD waits for plus decoding (which starts speculatively at the
first pause), measured on this machine's CPU, with the listener's jobs (pocketsphinx fed during speech,
speculative decodes, also those thrown away) timed as if they ran one after another in its one decode
thread. Progress goes to stderr; the JSON result is printed last.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from inference.speech.intents import normalise
from inference.speech.listener import CommandListener, ListenerConfig
from inference.speech.phrases import COMMAND_PHRASES, DEV_PHRASES, DEV_VOICES, HARD_VOICES, VOICES
from inference.speech.recognizer import get_recognizer
from inference.speech.synthetic import mix_at, pink_noise, render_midi, render_tune, speak
from inference.types import HOP_SAMPLES, SAMPLE_RATE

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
PROGRAMS = (
    73,
    40,
    71,
    68,
    56,
    0,
    24,
    42,
    22,
    65,
)  # flute violin clarinet oboe trumpet piano guitar cello harmonica sax
LEAD_S, TAIL_S = 1.0, 1.5
NOISE_SNR_DB, MUSIC_SNR_DB, LOUD_MUSIC_SNR_DB = 10.0, 6.0, 0.0
CONDITIONS = ("clean", "noise", "music")
ROOM_NOISE_RMS = 0.001
"""The "clean" condition's noise floor (-60 dBFS, 34 dB below the speech)."""
DEFAULT_ENGINE = "whisper"
SETUPS = (
    "whisper",
    "whisper-grammar",
    "whisper-nbest",
    "whisper-noprompt",
    "whisper-30s",
    "pocketsphinx-jsgf",
    "pocketsphinx-lm",
)
CLEAN_ONLY = ("whisper-noprompt", "whisper-30s", "pocketsphinx-lm")
"""Setups too slow or too weak to be worth the noisy conditions (measured clean only)."""


@dataclass(frozen=True)
class Utterance:
    text: str
    expected: dict[str, Any]
    voice: str
    rate: int
    audio: np.ndarray


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_utterances(
    renditions: int,
    voices: Sequence[tuple[str, int]] = VOICES,
    phrases: Sequence[tuple[str, dict[str, Any]]] = COMMAND_PHRASES,
) -> list[Utterance]:
    out = []
    for i, (text, expected) in enumerate(phrases):
        for k in range(renditions):
            voice, rate = voices[(i + k * 3) % len(voices)]
            out.append(Utterance(text, expected, voice, rate, speak(text, voice, rate)))
    return out


def build_music(seconds: float, seed: int = 7) -> list[np.ndarray]:
    """Rendered tunes adding up to at least ``seconds``: Nottingham melodies on varied instruments + piano."""
    rng = np.random.default_rng(seed)
    tunes = sorted((SHARED_DATA / "nottingham" / "MIDI" / "melody").glob("*.mid"))
    performances = sorted((SHARED_DATA / "vienna4x22" / "midi").glob("*.mid"))
    if not tunes or not SOUNDFONT.is_file():
        raise SystemExit(f"needs {SHARED_DATA}/nottingham and the soundfont {SOUNDFONT} (fluid-soundfont-gm)")
    tracks: list[np.ndarray] = []
    for perf in [performances[i] for i in rng.choice(len(performances), 2, replace=False)] if performances else []:
        tracks.append(render_midi(perf, SOUNDFONT))
    order = rng.permutation(len(tunes))
    i = 0
    while sum(len(t) for t in tracks) < seconds * SAMPLE_RATE:
        tracks.append(render_tune(tunes[order[i]], PROGRAMS[i % len(PROGRAMS)], SOUNDFONT))
        i += 1
    return tracks


def background_for(condition: str, n: int, music: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    if condition == "clean":  # a quiet room: a real microphone is never digitally silent
        return (pink_noise(n, rng) * ROOM_NOISE_RMS).astype(np.float32)
    if condition == "noise":
        return pink_noise(n, rng)
    track = music[int(rng.integers(len(music)))]
    start = int(rng.integers(0, max(1, len(track) - n)))
    excerpt = track[start : start + n]
    return np.pad(excerpt, (0, n - len(excerpt)))


def stream(listener: CommandListener, audio: np.ndarray) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for start in range(0, len(audio), HOP_SAMPLES):
        events += listener.feed(audio[start : start + HOP_SAMPLES])
    return events + listener.flush()


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words, reference length), after the parser's normalisation (numbers as digits)."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1], len(ref)


def score_utterance(
    utt: Utterance, events: list[dict[str, Any]], speech_end_s: float, cpu_ms: float | None = None
) -> dict[str, Any]:
    """Right intent? A wrong action? Word errors, and the latency from the end of speech to the first event
    (``latency_cpu_ms``: the same with the decode's wall time replaced by its CPU time ``cpu_ms``)."""
    commands = [e for e in events if e["intent"]["name"] != "unknown"]
    expected_command = utt.expected["name"] != "unknown"
    is_correct = [e["intent"] for e in commands] == ([utt.expected] if expected_command else [])
    is_wrong_action = any(e["intent"] != utt.expected for e in commands)
    errors, n_words = word_errors(utt.text, " ".join(e["text"] for e in events))
    latency = latency_cpu = None
    if events and "timing" in events[0]:
        timing = events[0]["timing"]
        finished = timing.get("decode_finished_s", timing["decode_started_s"] + timing["decode_ms"] / 1000.0)
        ready = max(events[0]["t"], finished)
        latency = (ready - speech_end_s) * 1000.0
        if cpu_ms is not None:
            ready = max(events[0]["t"], timing["decode_started_s"] + cpu_ms / 1000.0)
            latency_cpu = (ready - speech_end_s) * 1000.0
    return {
        "correct": is_correct,
        "wrong_action": is_wrong_action,
        "errors": errors,
        "words": n_words,
        "latency_ms": latency,
        "latency_cpu_ms": latency_cpu,
        "events": events,
    }


class _CpuTimed:
    """A recogniser wrapper that records the process CPU time of each decode: on this busy shared machine
    wall time includes waiting for a core, CPU time is what the decode itself costs (an unloaded estimate)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name = inner, inner.name
        self.cpu_ms: list[float] = []
        if hasattr(inner, "open_stream"):
            self.open_stream = inner.open_stream

    def transcribe(self, samples: np.ndarray, **stream: Any) -> Any:
        started = time.process_time()
        result = self.inner.transcribe(samples, **stream)
        self.cpu_ms.append((time.process_time() - started) * 1000.0)
        return result


class _OneDecodeThread(CommandListener):
    """The listener as the benchmark runs it (every job inline), timed as if its jobs ran in order in the one
    decode thread of the live path: a job starts when it is submitted (audio time) or when the job before it
    ends, whichever is later. A speculative decode that was thrown away still delays the next one."""

    def __init__(self, config: ListenerConfig, recognizer: Any) -> None:
        super().__init__(config, recognizer=recognizer, background=False)
        self._free_at = 0.0
        self._finished_at: dict[int, float] = {}

    def _run(self, job: Any) -> Any:
        submitted, started = self._now, time.perf_counter()
        future = super()._run(job)
        self._free_at = max(submitted, self._free_at) + time.perf_counter() - started
        self._finished_at[id(future)] = self._free_at
        return future

    def _event(self, pending: Any) -> dict[str, Any] | None:
        event = super()._event(pending)
        if event is not None:
            event["timing"]["decode_finished_s"] = round(self._finished_at[id(pending.future)], 4)
        return event


def run_condition(
    engine: str, condition: str, utterances: list[Utterance], music: list[np.ndarray], snr_db: float | None = None
) -> dict[str, Any]:
    rng = np.random.default_rng(11)
    recognizer = _CpuTimed(get_recognizer(engine))
    config = replace(ListenerConfig(), engine=engine)
    results, failures = [], []
    for utt in utterances:
        lead, tail = int(LEAD_S * SAMPLE_RATE), int(TAIL_S * SAMPLE_RATE)
        n = lead + len(utt.audio) + tail
        background = background_for(condition, n, music, rng)
        snr = snr_db if snr_db is not None else NOISE_SNR_DB if condition == "noise" else MUSIC_SNR_DB
        if condition == "clean":
            audio = background.copy()
            audio[lead : lead + len(utt.audio)] += utt.audio
        else:
            audio = mix_at(utt.audio, background, lead, snr)
        audio = np.clip(audio, -1.0, 1.0)
        listener = _OneDecodeThread(config, recognizer)
        decodes = len(recognizer.cpu_ms)
        events = stream(listener, audio)
        cpu_ms = recognizer.cpu_ms[-1] if len(recognizer.cpu_ms) > decodes else None
        result = score_utterance(utt, events, (lead + len(utt.audio)) / SAMPLE_RATE, cpu_ms)
        results.append(result)
        if not result["correct"]:
            heard = [(e["text"], e["intent"]) for e in result["events"]]
            failures.append({"said": utt.text, "voice": f"{utt.voice}@{utt.rate}", "heard": heard})
    latencies = [r["latency_ms"] for r in results if r["latency_ms"] is not None]
    decode = [e["timing"]["decode_ms"] for r in results for e in r["events"] if "timing" in e]
    return {
        "n": len(results),
        "intent_accuracy": round(float(np.mean([r["correct"] for r in results])), 4),
        "wrong_action_rate": round(float(np.mean([r["wrong_action"] for r in results])), 4),
        "wer": round(sum(r["errors"] for r in results) / max(1, sum(r["words"] for r in results)), 4),
        "latency_ms": _percentiles(latencies),
        "decode_ms": _percentiles(decode),
        "decode_cpu_ms": _percentiles(recognizer.cpu_ms),
        "latency_cpu_estimate_ms": _percentiles([r["latency_cpu_ms"] for r in results if r["latency_cpu_ms"]]),
        "failures": failures[:12],
    }


def false_commands(engine: str, music: list[np.ndarray]) -> dict[str, Any]:
    recognizer = get_recognizer(engine)
    commands, prompts = [], 0
    for track in music:
        listener = CommandListener(replace(ListenerConfig(), engine=engine), recognizer=recognizer, background=False)
        for event in stream(listener, track):
            if event["intent"]["name"] == "unknown":
                prompts += 1
            else:
                commands.append({"text": event["text"], "intent": event["intent"]})
    minutes = sum(len(t) for t in music) / SAMPLE_RATE / 60.0
    return {
        "minutes": round(minutes, 2),
        "false_commands": len(commands),
        "false_commands_per_10min": round(len(commands) * 10.0 / minutes, 3),
        "didnt_catch_prompts_per_10min": round(prompts * 10.0 / minutes, 3),
        "examples": commands[:5],
    }


def live_path(engine: str, seconds: float = 12.0) -> dict[str, Any]:
    """Per-chunk compute of ``TakeSession`` with and without the listener, paced in real time.

    A melody is played with two spoken commands in it, so decodes run in the background thread while chunks
    keep arriving every 20 ms; the figure that matters is how long one chunk's ``feed`` takes meanwhile.
    """
    from inference.session import TakeSession
    from inference.synth import make_melody, render_notes

    notes = make_melody([60, 62, 64, 65, 67, 69, 71, 72] * 4, [1.0] * 32, bpm=120)
    music, _ = render_notes(notes, seed=3, timbre="flute")
    music = music[: int(seconds * SAMPLE_RATE)]
    for at, text in ((3.0, "metronome on"), (8.0, "tempo ninety")):
        speech = speak(text, "en-us", 160)
        start = int(at * SAMPLE_RATE)
        if start + len(speech) < len(music):
            music[start : start + len(speech)] = speech  # the player stops to speak
    result: dict[str, Any] = {}
    for label, listener in (
        ("without_listener", None),
        ("with_listener", CommandListener(ListenerConfig(engine=engine))),
    ):
        get_recognizer(engine)
        session = TakeSession(notes, listener=listener)
        times, commands = [], 0
        next_due = time.perf_counter()
        for start in range(0, len(music), HOP_SAMPLES):
            next_due += HOP_SAMPLES / SAMPLE_RATE
            t0 = time.perf_counter()
            events = session.feed(music[start : start + HOP_SAMPLES])
            times.append((time.perf_counter() - t0) * 1000.0)
            commands += sum(e["type"] == "command" for e in events)
            time.sleep(max(0.0, next_due - time.perf_counter()))
        result[label] = {"per_chunk_ms": _percentiles(times), "commands": commands}
    return result


def _percentiles(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "max": None}
    arr = np.asarray(values, dtype=float)
    return {
        k: round(float(v), 1)
        for k, v in (("p50", np.percentile(arr, 50)), ("p95", np.percentile(arr, 95)), ("max", arr.max()))
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the JSON result on one line")
    parser.add_argument("--quick", action="store_true", help="16 phrasings, one voice each, 1 minute of music")
    parser.add_argument("--setups", default=",".join(SETUPS), help="comma-separated recogniser setups")
    parser.add_argument("--dev", action="store_true", help="the development set (tuning phrasings and voices)")
    args = parser.parse_args(argv)
    setups = [s for s in args.setups.split(",") if s]
    started = time.perf_counter()
    log("speaking the command set with espeak-ng ...")
    utterances = (
        build_utterances(1 if args.quick else 2, DEV_VOICES, DEV_PHRASES)
        if args.dev
        else build_utterances(renditions=1 if args.quick else 2)
    )
    hard = build_utterances(renditions=1, voices=HARD_VOICES)
    if args.quick:
        utterances, hard = utterances[::4], hard[::4]
    log(f"{len(utterances)} utterances; rendering music ...")
    music = build_music(60.0 if args.quick else 600.0)
    table: dict[str, Any] = {}
    for engine in setups:
        row: dict[str, Any] = {}
        for condition in CONDITIONS:
            if condition != "clean" and engine in CLEAN_ONLY:
                continue
            log(f"{engine}: {condition} ...")
            row[condition] = run_condition(engine, condition, utterances, music)
        if engine == DEFAULT_ENGINE:
            log(f"{engine}: clean, harder voices ...")
            row["clean_hard_voices"] = run_condition(engine, "clean", hard, music)
            log(f"{engine}: music at {LOUD_MUSIC_SNR_DB:g} dB ...")
            row["music_loud"] = run_condition(engine, "music", utterances, music, snr_db=LOUD_MUSIC_SNR_DB)
        log(f"{engine}: pure music ...")
        row["playing"] = false_commands(engine, music)
        table[engine] = row
    log("live path: TakeSession per-chunk compute with the listener ...")
    live = live_path(DEFAULT_ENGINE if DEFAULT_ENGINE in setups else setups[0], 6.0 if args.quick else 12.0)
    default = table.get(DEFAULT_ENGINE) or next(iter(table.values()))
    all_latency = [v for c in CONDITIONS if c in default for v in [default[c]["latency_ms"]["p95"]] if v is not None]
    result = {
        "benchmark": "speech",
        "quick": args.quick,
        "set": "development" if args.dev else "report",
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine()},
        "utterances_per_condition": len(utterances),
        "phrasings": len({u.text for u in utterances}),
        "voices": sorted({f"{u.voice}@{u.rate}wpm" for u in utterances}),
        "conditions": {
            "noise_snr_db": NOISE_SNR_DB,
            "music_snr_db": MUSIC_SNR_DB,
            "music_loud_snr_db": LOUD_MUSIC_SNR_DB,
        },
        "setups": table,
        "live_path": live,
        "wrong_action_rate": {c: default[c]["wrong_action_rate"] for c in CONDITIONS if c in default},
        "latency_cpu_estimate_ms_p95": max(
            (default[c]["latency_cpu_estimate_ms"]["p95"] or 0.0 for c in CONDITIONS if c in default), default=None
        ),
        "summary": {
            "intent_accuracy_clean": default["clean"]["intent_accuracy"],
            "intent_accuracy_music": default.get("music", {}).get("intent_accuracy"),
            "wer_clean": default["clean"]["wer"],
            "false_commands_per_10min": default["playing"]["false_commands_per_10min"],
            "latency_ms_p95": max(all_latency) if all_latency else None,
            "latency_ms_p95_clean": default["clean"]["latency_ms"]["p95"],
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
