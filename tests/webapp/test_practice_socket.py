"""The practice socket: who may connect, how bad input is answered, and that a played piece is followed."""

from __future__ import annotations

import time

import pytest
from channels.db import database_sync_to_async

from tests.webapp.channels_helpers import FRAME_BYTES, connect, drain, performance_pcm, start, stream
from webapp.practice.consumers import PracticeConsumer
from webapp.practice.limits import FrameLimits
from webapp.practice.models import NoteResult, Take, TakeStatus
from webapp.practice.services import create_take

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

SILENCE = b"\x00\x00" * 320


@pytest.fixture
def fast_limits(monkeypatch):  # type: ignore[no-untyped-def]
    """Tests stream audio faster than real time; the rate limit has its own test."""
    monkeypatch.setattr(PracticeConsumer, "limits", FrameLimits(burst_s=10_000, max_speed=10_000))


async def _take(learner, lesson) -> Take:  # type: ignore[no-untyped-def]
    return await database_sync_to_async(create_take)(learner, lesson)


async def _reload(take: Take) -> Take:
    return await database_sync_to_async(Take.objects.get)(pk=take.pk)


async def test_unauthenticated_sockets_are_refused(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    take = await _take(learner, lesson)
    communicator = await connect(take.pk, None)
    events = await drain(communicator, until="_")
    assert events[0] == {"type": "error", "code": "unauthenticated", "message": "Log in to practise."}
    assert events[-1] == {"type": "_closed", "code": 4401}


async def test_cross_origin_sockets_are_refused(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    take = await _take(learner, lesson)
    communicator = await connect(take.pk, learner, origin=b"https://evil.example")
    events = await drain(communicator, until="_")
    assert events[0]["code"] == "origin_not_allowed" and events[-1]["code"] == 4403


async def test_someone_elses_take_is_refused(learner, outsider, lesson) -> None:  # type: ignore[no-untyped-def]
    take = await _take(learner, lesson)
    communicator = await connect(take.pk, outsider)
    events = await drain(communicator, until="_")
    assert events[0]["code"] == "take_not_found" and events[-1]["code"] == 4404


async def test_bad_messages_get_errors_and_the_take_survives(learner, lesson, fast_limits) -> None:  # type: ignore[no-untyped-def]
    take = await _take(learner, lesson)
    communicator = await connect(take.pk, learner)
    await communicator.send_to(bytes_data=SILENCE)
    assert (await communicator.receive_json_from())["code"] == "not_started"
    await communicator.send_to(text_data="{not json")
    assert (await communicator.receive_json_from())["code"] == "bad_message"
    await communicator.send_json_to({"type": "start", "sample_rate": 44100})
    assert (await communicator.receive_json_from())["code"] == "unsupported_rate"
    assert (await start(communicator))["type"] == "started"
    await communicator.send_to(bytes_data=b"\x00" * (FrameLimits().max_frame_bytes + 2))
    oversized = await communicator.receive_json_from()
    assert oversized["code"] == "bad_frame" and "6400 bytes" in oversized["message"]
    await communicator.send_to(bytes_data=b"\x00" * 641)
    assert (await communicator.receive_json_from())["code"] == "bad_frame"
    await communicator.send_json_to({"type": "dance"})
    assert (await communicator.receive_json_from())["code"] == "unknown_type"
    pcm, _ = performance_pcm(lesson.piece.score_notes()[:6])
    await stream(communicator, pcm)
    await communicator.send_json_to({"type": "stop"})
    events = await drain(communicator)
    saved = await _reload(take)
    assert saved.status == TakeStatus.FINISHED
    assert saved.duration_s == pytest.approx(len(pcm) // FRAME_BYTES * 0.02, abs=0.03)
    assert any(e["type"] == "summary" for e in events) and events[-1]["type"] == "saved"


async def test_audio_faster_than_real_time_is_rate_limited(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    take = await _take(learner, lesson)
    communicator = await connect(take.pk, learner)
    await start(communicator)
    limits = FrameLimits()
    began = time.monotonic()
    for _ in range(1000):  # 20 s of audio, sent as fast as we can
        await communicator.send_to(bytes_data=SILENCE)
    await communicator.send_json_to({"type": "stop"})
    events = await drain(communicator)
    refilled_s = (time.monotonic() - began) * limits.max_speed  # the most the bucket regained meanwhile
    assert any(e.get("code") == "rate_limited" for e in events)
    assert (await _reload(take)).duration_s <= limits.burst_s + refilled_s + 0.5


async def test_a_played_piece_moves_the_cursor_to_the_end(learner, lesson, fast_limits) -> None:  # type: ignore[no-untyped-def]
    notes = lesson.piece.score_notes()
    take = await _take(learner, lesson)
    communicator = await connect(take.pk, learner)
    await start(communicator, tempo_factor=0.9)
    pcm, _ = performance_pcm(notes, tempo_factor=0.9)
    await stream(communicator, pcm)
    await communicator.send_json_to({"type": "stop"})
    events = await drain(communicator)
    order = {n.note_id: i for i, n in enumerate(notes)}
    reached = [max(order[i] for i in e["note_ids"]) for e in events if e["type"] == "position" and e["note_ids"]]
    assert reached == sorted(reached), "the cursor should only move forward on a clean performance"
    assert reached[-1] >= len(notes) - 2
    assert len(set(reached)) >= len(notes) * 0.8
    verdicts = [e for e in events if e["type"] == "verdict"]
    assert sum(v["result"] == "correct" for v in verdicts) >= 0.8 * len(notes)
    saved = await _reload(take)
    assert saved.status == TakeStatus.FINISHED and saved.accuracy >= 0.8
    assert await database_sync_to_async(NoteResult.objects.filter(take=take).count)() >= len(notes) * 0.9
    assert saved.audio.name.endswith(".wav")


async def test_a_dropped_connection_keeps_the_take(learner, lesson, fast_limits) -> None:  # type: ignore[no-untyped-def]
    notes = lesson.piece.score_notes()
    take = await _take(learner, lesson)
    communicator = await connect(take.pk, learner)
    await start(communicator)
    pcm, _ = performance_pcm(notes[:12])
    await stream(communicator, pcm)
    await communicator.disconnect()
    saved = await _reload(take)
    assert saved.status == TakeStatus.INTERRUPTED and saved.duration_s > 3
    assert await database_sync_to_async(NoteResult.objects.filter(take=take, result="correct").count)() >= 8
