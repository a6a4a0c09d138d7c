"""Spoken commands on the practice socket: heard inside a take, and the notes around them not judged as wrong."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from channels.db import database_sync_to_async

from inference.audio import float_to_pcm16
from inference.speech.synthetic import silence, speak
from inference.synth import render_notes
from tests.conftest import require_binary
from tests.webapp.channels_helpers import connect, drain, start, stream
from webapp.practice.consumers import PracticeConsumer
from webapp.practice.limits import FrameLimits
from webapp.practice.models import VoiceCommand
from webapp.practice.services import create_take

SILENT_FRAME = b"\x00\x00" * 320

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def fast_limits(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(PracticeConsumer, "limits", FrameLimits(burst_s=10_000, max_speed=10_000))


def _take_audio(lesson) -> tuple[bytes, int]:  # type: ignore[no-untyped-def]
    """The first notes played, a spoken command while the player stops, then the next notes."""
    notes = lesson.piece.score_notes()[:10]
    audio, onsets = render_notes(notes, seed=1, timbre="flute")
    split = int((onsets[6] - 0.05) * 16000)  # just before note 7
    speech = np.concatenate((silence(0.3), speak("metronome on", "en-us", 150), silence(0.6)))
    return float_to_pcm16(np.concatenate((audio[:split], speech, audio[split:], silence(0.5)))), len(notes)


async def _play(learner, lesson, settings, *, voice: bool) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    settings.ETUDE_VOICE_COMMANDS = voice
    take = await database_sync_to_async(create_take)(learner, lesson)
    communicator = await connect(take.pk, learner)
    await start(communicator)
    pcm, _ = _take_audio(lesson)
    await stream(communicator, pcm, speed=3.0)
    events = await _keep_listening(communicator, seconds=20.0 if voice else 0.5)
    await communicator.send_json_to({"type": "stop"})
    return events + await drain(communicator)


async def _keep_listening(communicator, seconds: float) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """Go on sending room silence, as an open microphone does, until a command arrives (decoding runs beside
    the stream, and the first one in a process also loads the model; its event rides a later frame)."""
    events: list[dict] = []  # type: ignore[type-arg]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline and not any(e["type"] == "command" for e in events):
        await stream(communicator, SILENT_FRAME * 5, speed=1.0)
        while not await communicator.receive_nothing(timeout=0.01):
            events.append(await communicator.receive_json_from())
    return events


async def test_a_spoken_command_is_heard_and_not_judged_as_wrong_notes(learner, lesson, settings, fast_limits) -> None:  # type: ignore[no-untyped-def]
    require_binary("espeak-ng")
    events = await _play(learner, lesson, settings, voice=True)
    commands = [e for e in events if e["type"] == "command"]
    assert [c["intent"] for c in commands] == [{"name": "metronome", "on": True}], commands
    assert commands[0]["source"] == "voice" and commands[0]["text"]
    verdicts = [e for e in events if e["type"] == "verdict"]
    assert not [v for v in verdicts if v["result"] in ("wrong_pitch", "extra")], verdicts
    assert events[-1]["type"] == "saved"
    rows = VoiceCommand.objects.values("intent", "slots", "source", "take")
    kept = await database_sync_to_async(lambda: list(rows))()
    assert kept == [{"intent": "metronome", "slots": {"on": True}, "source": "voice", "take": events[-1]["take_id"]}]


async def test_without_the_listener_the_same_speech_is_judged(learner, lesson, settings, fast_limits) -> None:  # type: ignore[no-untyped-def]
    """The control: with voice commands off, the spoken words reach the judge (so the test above can fail)."""
    require_binary("espeak-ng")
    events = await _play(learner, lesson, settings, voice=False)
    assert not [e for e in events if e["type"] == "command"]
    assert [e for e in events if e["type"] == "verdict" and e["result"] in ("wrong_pitch", "extra")]


async def test_push_to_talk_needs_a_started_take(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    take = await database_sync_to_async(create_take)(learner, lesson)
    communicator = await connect(take.pk, learner)
    await communicator.send_json_to({"type": "push_to_talk", "down": True})
    assert (await communicator.receive_json_from())["code"] == "not_started"
    await communicator.disconnect()
