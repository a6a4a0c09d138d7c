"""The streaming benchmark: many simulated browsers stream takes at once; how many does the server keep up with?

At each level of concurrency N, N learners (the demo learner, then learners who signed up and joined the demo
course) play takes back to back: each creates a take, opens the practice socket, starts, streams a rendered
demo piece as 20 ms Int16 frames paced at real time, stops and waits for ``saved``, then begins the next.
Their first takes start spread evenly over one take's length, so that from then on takes open and finish
all the time while the others stream, as on a real server. A level is *real time* when every take was saved,
no frame or message was refused (``rate_limited``, ``server_busy``, any error), no take's last position was
more than ``KEPT_UP_S`` behind the audio sent at its stop, and the p95 frame-to-event latency is under the
bound. Capacity is the largest N before the first level that is not. Run by ``manage.py bench_streaming``.
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from webapp.courses.demo import DEMO_CLASS_CODE, DEMO_USERS
from webapp.practice.loadclient import BrowserClient, TakeTrace
from webapp.practice.loadserver import BenchServer, ServerConfig

KEPT_UP_S = 0.5
"""A take kept up when, at stop, the server's last position was at most this far behind the audio sent
(positions come at least every 0.25 s, so this leaves 0.25 s for the event to arrive)."""
BENCH_PASSWORD = "bench-Practise-2026"
START_MARGIN_S = 0.5
WARMUP_TRIES = 3
DEMO_LEARNER = next(user for user in DEMO_USERS if user.username == "learner")


@dataclass(frozen=True)
class BenchPlan:
    levels: tuple[int, ...]
    seconds: float
    """Length of a take (performances are cut to it); a level lasts two of them."""
    p95_bound_ms: float = 250.0


@dataclass(frozen=True)
class Performance:
    lesson_id: int
    title: str
    pcm16: bytes


def ramp_levels(max_clients: int) -> tuple[int, ...]:
    """1, 2, 4, 8, 12, 16, 24, 32, ... up to ``max_clients`` (which is always the last level)."""
    levels, n = [], 1
    while n < max_clients:
        levels.append(n)
        n = n * 2 if n < 8 else n + (4 if n < 16 else 8)
    return (*levels, max_clients)


def run_benchmark(config: ServerConfig, plan: BenchPlan, *, progress: bool = True) -> dict[str, Any]:
    """Start a server for ``config``, ramp through ``plan.levels``, and return this mode's JSON section."""
    with BenchServer(config) as server:
        try:
            return asyncio.run(_ramp(server, plan, progress))
        except Exception as exc:
            raise RuntimeError(f"{exc}\n{server.log_tail()}") from exc


async def _ramp(server: BenchServer, plan: BenchPlan, progress: bool) -> dict[str, Any]:
    clients: list[BrowserClient] = []
    try:
        await _arrive(clients, server.base_url, 1)
        performances = await _performances(clients[0], server.lessons, plan.seconds)
        # One take first: models that load on first use (voice activity, speech) load here, not in level 1.
        # A cold worker may take longer than the 5 s a take waits for it (``no_worker``): try again then.
        for _ in range(WARMUP_TRIES):
            warmup = await _run_level(server, clients, performances, plan, is_warmup=True)
            if progress:
                print("warm-up: " + _level_line(warmup), file=sys.stderr, flush=True)
            if warmup["takes_saved"]:
                break
        results: list[dict[str, Any]] = []
        for n in plan.levels:
            await _arrive(clients, server.base_url, n)
            level = await _run_level(server, clients[:n], performances, plan)
            results.append(level)
            if progress:
                print(_level_line(level), file=sys.stderr, flush=True)
            if not level["is_real_time"]:
                break
    finally:
        await asyncio.gather(*(client.close() for client in clients))
    capacity = 0
    for level in results:
        if not level["is_real_time"]:
            break
        capacity = level["clients"]
    return {
        "warmup": warmup,
        "levels": results,
        "max_real_time_takes": capacity,
        "lessons": [p.title for p in performances],
    }


async def _arrive(clients: list[BrowserClient], base_url: str, n: int) -> None:
    """Bring ``clients`` up to ``n`` logged-in browsers: the demo learner logs in, the others sign up and join
    the demo course (a few at a time: each hashes a password on the server)."""
    gate = asyncio.Semaphore(4)

    async def arrive(client: BrowserClient) -> None:
        async with gate:
            await (client.log_in() if client.username == DEMO_LEARNER.username else client.sign_up(DEMO_CLASS_CODE))

    new = [_client(base_url, index) for index in range(len(clients), n)]
    clients += new
    await asyncio.gather(*(arrive(client) for client in new))


def _client(base_url: str, index: int) -> BrowserClient:
    if index == 0:
        return BrowserClient(base_url, DEMO_LEARNER.username, DEMO_LEARNER.password)
    return BrowserClient(base_url, f"bench-learner-{index}", BENCH_PASSWORD)


async def _performances(client: BrowserClient, lessons: dict[str, int], seconds: float) -> list[Performance]:
    """Each demo lesson rendered from the notes its page holds (``client`` is logged in), cut to ``seconds``."""
    from inference.synth import render_notes
    from inference.types import ScoreNote

    out = []
    for index, (title, lesson_id) in enumerate(sorted(lessons.items(), key=lambda item: item[1])):
        notes = [ScoreNote.from_dict(note) for note in await client.score_notes(lesson_id)]
        audio, _ = render_notes(notes, timbre="flute", seed=index)
        audio = audio[: int(seconds * 16_000)]
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        out.append(Performance(lesson_id, title, pcm))
    return out


async def _run_level(
    server: BenchServer,
    clients: Sequence[BrowserClient],
    performances: Sequence[Performance],
    plan: BenchPlan,
    *,
    is_warmup: bool = False,
) -> dict[str, Any]:
    """Each client plays takes back to back for two takes' length, their first starts spread over one take.

    From one take's length on every client is playing (or between two takes), and takes start and finish all
    the time as on a real server: latency and CPU are measured there, over one take's length. The last take
    of each client is stopped at the end, as a learner stops mid-piece. A warm-up is one take, all measured.
    """
    n, take_s = len(clients), plan.seconds
    start = time.monotonic() + START_MARGIN_S
    window = (start, start + take_s) if is_warmup else (start + take_s, start + 2 * take_s)
    cpu = asyncio.create_task(_cpu_share(server, *window))
    failures: Counter[str] = Counter()
    learners = [
        _learner(client, performances[index % len(performances)], start + index * take_s / n, window[1], failures)
        for index, client in enumerate(clients)
    ]
    traces = [trace for traces in await asyncio.gather(*learners) for trace in traces]
    return _level_result(n, traces, failures, await cpu, window, plan)


async def _learner(
    client: BrowserClient, performance: Performance, first_start: float, until: float, failures: Counter[str]
) -> list[TakeTrace]:
    """One learner's takes, the first at ``first_start``, each next as soon as the last is saved, until ``until``."""
    await asyncio.sleep(max(0.0, first_start - time.monotonic()))
    traces = []
    while time.monotonic() < until - 1.0:
        try:
            live = await client.open_take(performance.lesson_id)
            traces.append(await live.stream(performance.pcm16, start_at=time.monotonic(), until=until))
        except Exception as exc:  # a refused or broken take fails the level; the others go on
            failures[f"client:{getattr(exc, 'code', type(exc).__name__)}"] += 1
            break
    return traces


async def _cpu_share(server: BenchServer, start: float, end: float) -> dict[str, float]:
    """Share of one CPU each server process, this client process, and (on the server's pinned CPUs) every other
    process of the machine used while the takes streamed."""
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    before, busy_before, client_before = server.cpu_seconds(), server.cpu_busy_seconds(), _own_cpu_seconds()
    began = time.monotonic()
    await asyncio.sleep(max(0.0, end - time.monotonic()))
    after, busy_after, client_after = server.cpu_seconds(), server.cpu_busy_seconds(), _own_cpu_seconds()
    wall = time.monotonic() - began
    shares = {name: (after[name] - before.get(name, 0.0)) / wall for name in after}
    if server.config.cpus:
        shares["others_on_server_cpus"] = max(0.0, (busy_after - busy_before) / wall - sum(shares.values()))
    shares["client"] = (client_after - client_before) / wall
    return {name: round(share, 3) for name, share in shares.items()}


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _level_result(
    n: int,
    traces: Sequence[TakeTrace],
    failures: Counter[str],
    cpu: dict[str, float],
    window: tuple[float, float],
    plan: BenchPlan,
) -> dict[str, Any]:
    latencies = np.array([ms for trace in traces for ms in trace.latencies_ms(sent_between=window)], dtype=float)
    errors = sum((trace.errors for trace in traces), Counter()) + failures
    backlog = max((trace.backlog_at_stop_s for trace in traces), default=math.inf)
    saved = [trace.stop_to_saved_s for trace in traces if trace.is_saved]
    percentiles = {
        f"p{q}": round(float(np.percentile(latencies, q)), 1) if latencies.size else None for q in (50, 95, 99)
    }
    is_real_time = (
        bool(traces)
        and len(saved) == len(traces)
        and not errors
        and backlog <= KEPT_UP_S
        and percentiles["p95"] is not None
        and percentiles["p95"] <= plan.p95_bound_ms
    )
    return {
        "clients": n,
        "latency_ms": {**percentiles, "max": round(float(latencies.max()), 1) if latencies.size else None},
        "positions": int(latencies.size),
        "frames_sent": sum(len(trace.frame_sent) for trace in traces),
        "errors": dict(errors),
        "takes": len(traces),
        "takes_saved": len(saved),
        "commands_heard": sum(trace.commands for trace in traces),
        "max_backlog_at_stop_s": round(backlog, 3) if math.isfinite(backlog) else None,
        "stop_to_saved_s": {"p50": round(float(np.median(saved)), 2), "max": round(max(saved), 2)} if saved else None,
        "cpu_share": cpu,
        "is_real_time": is_real_time,
    }


def _level_line(level: dict[str, Any]) -> str:
    latency = level["latency_ms"]
    return (
        f"{level['clients']:>3} learners  p50 {latency['p50']} ms  p95 {latency['p95']} ms  p99 {latency['p99']} ms  "
        f"backlog {level['max_backlog_at_stop_s']} s  errors {level['errors'] or 0}  cpu {level['cpu_share']}  "
        f"{'real time' if level['is_real_time'] else 'NOT real time'}"
    )
