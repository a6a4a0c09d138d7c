"""Worker mode: the web process hands takes to a separate ``inference_worker`` process through Redis."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.test import override_settings

from tests.conftest import ROOT
from tests.webapp.channels_helpers import connect, drain, performance_pcm, start, stream
from webapp.practice import engine
from webapp.practice.consumers import PracticeConsumer
from webapp.practice.limits import FrameLimits
from webapp.practice.models import Take, TakeStatus
from webapp.practice.services import create_take
from webapp.practice.worker import InferenceWorker

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not REDIS_URL, reason="worker mode needs Redis: set REDIS_URL"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
]


@pytest.fixture
def worker_prefix() -> Iterator[str]:
    """A running ``manage.py inference_worker`` on a channel prefix of its own."""
    prefix = f"etude-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "ETUDE_INFERENCE_MODE": "worker", "ETUDE_CHANNEL_PREFIX": prefix}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "inference_worker", "--threads", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "ready" in line, line
    yield prefix
    process.terminate()
    output, _ = process.communicate(timeout=10)
    print(output)  # shown by pytest when a test fails


def _redis_layer(prefix: str) -> dict:  # type: ignore[type-arg]
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": prefix, "capacity": 500},
        }
    }


async def test_a_take_is_followed_by_a_separate_worker(learner, lesson, worker_prefix, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(PracticeConsumer, "limits", FrameLimits(burst_s=10_000, max_speed=10_000))
    notes = lesson.piece.score_notes()
    with override_settings(ETUDE_INFERENCE_MODE="worker", CHANNEL_LAYERS=_redis_layer(worker_prefix)):
        take = await database_sync_to_async(create_take)(learner, lesson)
        communicator = await connect(take.pk, learner)
        reply = await start(communicator)
        assert reply["type"] == "started", reply
        pcm, _ = performance_pcm(notes)
        await stream(communicator, pcm, speed=4.0)
        await communicator.send_json_to({"type": "stop"})
        events = await drain(communicator, timeout=60)
    positions = [e for e in events if e["type"] == "position"]
    assert positions and positions[-1]["note_ids"]
    last_ids = set(positions[-1]["note_ids"])
    assert any(n.note_id in last_ids for n in notes[-3:])
    saved = await database_sync_to_async(Take.objects.get)(pk=take.pk)
    assert saved.status == TakeStatus.FINISHED and saved.accuracy >= 0.8


async def test_without_a_worker_the_learner_is_told(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    with override_settings(
        ETUDE_INFERENCE_MODE="worker", CHANNEL_LAYERS=_redis_layer(f"etude-none-{uuid.uuid4().hex[:6]}")
    ):
        take = await database_sync_to_async(create_take)(learner, lesson)
        communicator = await connect(take.pk, learner)
        reply = await start(communicator)
    assert reply["type"] == "error" and reply["code"] == "no_worker"
    await communicator.disconnect()


async def test_a_take_given_up_on_is_dropped_by_a_worker_that_accepts_it_late(lesson, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    """A busy worker takes longer than the web process waits (``no_worker``); when it accepts after all, it is
    told to drop the take rather than hold it until its idle timeout."""
    monkeypatch.setattr(engine, "ACCEPT_TIMEOUT_S", 0.001)
    notes = [n.to_dict() for n in lesson.piece.score_notes()]
    options = engine.TakeOptions(notes=notes, tempo_factor=1.0, from_measure=1, follower="auto")
    with override_settings(CHANNEL_LAYERS=_redis_layer(f"etude-late-{uuid.uuid4().hex[:6]}")):
        worker = InferenceWorker(get_channel_layer(), threads=1, max_takes=2)
        stop = asyncio.Event()
        serving = asyncio.create_task(worker.serve(stop=stop))

        async def ignore(events: list[dict]) -> None:  # type: ignore[type-arg]
            pass

        session = engine.RemoteSession(take_id=1, options=options, on_events=ignore)
        with pytest.raises(engine.EngineError, match="No listening worker"):
            await session.open()
        caplog.set_level("INFO", logger="webapp.practice.worker")
        for _ in range(400):
            if "take 1 aborted" in caplog.text:
                break
            await asyncio.sleep(0.025)
        stop.set()
        await serving
    assert "take 1 aborted by its web process" in caplog.text and not worker.takes
