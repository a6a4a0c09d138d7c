"""The streaming benchmark (``manage.py bench_streaming``): its latency arithmetic, and a short real run."""

from __future__ import annotations

import io
import json
import math
import os

import pytest
from django.core.management import call_command

from webapp.practice.loadclient import TakeTrace
from webapp.practice.loadtest import ramp_levels


def test_latency_is_measured_from_the_frame_that_completed_the_hop() -> None:
    # frame k holds audio k*20..(k+1)*20 ms; a position's t is the audio time at the end of its hop
    trace = TakeTrace(take_id=1, frame_sent=[10.00, 10.02, 10.04, 10.06])
    trace.positions = [(0.02, 10.005), (0.06, 10.07), (0.08, 10.10)]
    assert trace.latencies_ms() == pytest.approx([5.0, 30.0, 40.0])


def test_ramp_doubles_then_steps_and_ends_at_the_maximum() -> None:
    assert ramp_levels(16) == (1, 2, 4, 8, 12, 16)
    assert ramp_levels(40) == (1, 2, 4, 8, 12, 16, 24, 32, 40)
    assert ramp_levels(1) == (1,)


def _bench(*args: str) -> dict:
    out = io.StringIO()
    # --cores 0: no pinning, so the test process keeps all its CPUs
    call_command("bench_streaming", "--levels", "2", "--seconds", "3", "--cores", "0", "--json", *args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def _check_report(report: dict, mode: str) -> None:
    assert set(report["summary"]) >= {"p95_bound_ms", "server_cores", mode}
    assert set(report["summary"][mode]) >= {"max_real_time_takes", "takes_per_core", "latency_ms_1_take"}
    (level,) = report["modes"][mode]["levels"]
    assert level["clients"] == 2
    # each learner plays 3 s takes back to back for 6 s, the second starting 1.5 s after the first
    assert level["takes"] >= 2 and level["takes_saved"] == level["takes"] and level["errors"] == {}
    assert level["frames_sent"] >= 2 * 150  # at least one whole take each, in 20 ms frames
    assert level["positions"] >= 8  # a position at least every 0.25 s, in the 3 s measured
    for name in ("p50", "p95", "p99", "max"):
        assert 0 < level["latency_ms"][name] < math.inf
    assert level["latency_ms"]["p50"] <= level["latency_ms"]["p95"] <= level["latency_ms"]["p99"]


@pytest.mark.e2e
def test_two_browsers_stream_to_a_real_server() -> None:
    _check_report(_bench(), "inprocess")


@pytest.mark.e2e
@pytest.mark.services
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="worker mode needs Redis: set REDIS_URL")
def test_two_browsers_stream_through_a_worker() -> None:
    _check_report(_bench("--mode", "worker"), "worker")
