"""``manage.py bench_streaming [--mode inprocess|worker|both] [--quick] [--json]``: the streaming benchmark.

Starts a real server (daphne, fresh database, demo course; in worker mode ``inference_worker`` and Redis),
pinned to ``--cores`` CPUs, and ramps simulated browsers streaming takes at real time
(``webapp.practice.loadtest``). Prints one JSON object last, with the headline figures under ``summary``:
per mode, the most concurrent takes held in real time, per core, and the latency percentiles.
"""

from __future__ import annotations

import json
import os
import platform
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from webapp.practice.loadserver import DEFAULT_REDIS_URL, ServerConfig
from webapp.practice.loadtest import KEPT_UP_S, BenchPlan, ramp_levels, run_benchmark

QUICK_LEVELS = (1, 2, 4)
QUICK_SECONDS = 8.0


class Command(BaseCommand):
    help = "Simulated browsers stream takes to a real server; frame-to-event latency and takes held in real time."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--mode", choices=("inprocess", "worker", "both"), default="inprocess")
        parser.add_argument("--max-clients", type=int, default=16, help="the last level of the ramp (default 16)")
        parser.add_argument("--levels", default="", help="comma-separated levels instead of the ramp, e.g. 1,4,8")
        parser.add_argument("--seconds", type=float, default=20.0, help="audio per take (default 20)")
        parser.add_argument(
            "--cores", type=int, default=1, help="CPUs the server is pinned to (default 1; 0: no pinning)"
        )
        parser.add_argument("--workers", type=int, default=1, help="inference_worker processes in worker mode")
        parser.add_argument("--p95-bound-ms", type=float, default=250.0, help="p95 latency a real-time level keeps")
        parser.add_argument("--no-voice-commands", action="store_true", help="serve with ETUDE_VOICE_COMMANDS=0")
        parser.add_argument("--quick", action="store_true", help=f"levels {QUICK_LEVELS}, {QUICK_SECONDS:.0f} s takes")
        parser.add_argument("--json", action="store_true", help="print only the JSON result")

    def handle(self, *args: Any, **options: Any) -> None:
        plan = _plan(options)
        available = sorted(os.sched_getaffinity(0))
        server_cpus, client_cpus = _split_cpus(available, options["cores"])
        if server_cpus and client_cpus:
            os.sched_setaffinity(0, client_cpus)  # the simulated browsers stay off the server's cores
        env = {"ETUDE_VOICE_COMMANDS": "0"} if options["no_voice_commands"] else {}
        if server_cpus:
            for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
                env.setdefault(name, os.environ.get(name, str(len(server_cpus))))
        modes = ("inprocess", "worker") if options["mode"] == "both" else (options["mode"],)
        load_before = os.getloadavg()
        results = {}
        for mode in modes:
            config = ServerConfig(
                mode=mode,
                cpus=server_cpus,
                workers=options["workers"],
                redis_url=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
                extra_env=env,
            )
            try:
                results[mode] = run_benchmark(config, plan, progress=not options["json"])
            except Exception as exc:
                raise CommandError(f"{mode}: {exc}") from exc
        cores = len(server_cpus) or len(available)
        report: dict[str, Any] = {
            "benchmark": "streaming",
            "machine": {
                "platform": platform.platform(),
                "cpus_available": len(available),
                "server_cpus": server_cpus,
                "client_cpus": client_cpus,
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
            },
            "plan": {
                "levels": list(plan.levels),
                "seconds_per_take": plan.seconds,
                "p95_bound_ms": plan.p95_bound_ms,
                "kept_up_s": KEPT_UP_S,
                "voice_commands": not options["no_voice_commands"],
                "workers": options["workers"] if "worker" in modes else 0,
            },
            "modes": results,
            "summary": {
                "p95_bound_ms": plan.p95_bound_ms,
                "server_cores": cores,
                **{mode: _headline(result, cores) for mode, result in results.items()},
            },
        }
        if not options["json"]:
            for mode, headline in report["summary"].items():
                if isinstance(headline, dict):
                    self.stdout.write(f"{mode}: {headline}")
        self.stdout.write(json.dumps(report))


def _plan(options: dict[str, Any]) -> BenchPlan:
    if options["levels"]:
        try:
            levels = tuple(sorted({int(n) for n in options["levels"].split(",") if n.strip()}))
        except ValueError as exc:
            raise CommandError("--levels takes comma-separated integers, e.g. 1,4,8") from exc
    elif options["quick"]:
        levels = QUICK_LEVELS
    else:
        levels = ramp_levels(options["max_clients"])
    seconds = QUICK_SECONDS if options["quick"] else options["seconds"]
    if not levels or levels[0] < 1 or seconds < 1:
        raise CommandError("levels must be positive and takes at least 1 s long")
    return BenchPlan(levels=levels, seconds=seconds, p95_bound_ms=options["p95_bound_ms"])


def _split_cpus(available: list[int], cores: int) -> tuple[list[int], list[int]]:
    """The first ``cores`` of the ``available`` CPUs for the server, the rest for the clients."""
    if cores < 0 or cores > len(available):
        raise CommandError(f"--cores must be between 0 and {len(available)}")
    if cores == 0:
        return [], available
    return available[:cores], available[cores:]


def _headline(result: dict[str, Any], cores: int) -> dict[str, Any]:
    levels = {level["clients"]: level for level in result["levels"]}
    capacity = result["max_real_time_takes"]
    return {
        "max_real_time_takes": capacity,
        "takes_per_core": round(capacity / cores, 2),
        "latency_ms_1_take": levels[min(levels)]["latency_ms"],
        "latency_ms_at_capacity": levels[capacity]["latency_ms"] if capacity else None,
    }
