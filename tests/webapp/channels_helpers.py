"""Helpers to drive the practice socket with ``WebsocketCommunicator`` as a logged-in browser would."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from inference.audio import float_to_pcm16
from inference.synth import render_notes
from inference.types import ScoreNote
from tests.webapp.conftest import client_for
from webapp.accounts.models import User
from webapp.asgi import application

ORIGIN = b"http://testserver"
FRAME_BYTES = 640  # 20 ms at 16 kHz


async def connect(take_id: int, user: User | None, *, origin: bytes = ORIGIN) -> WebsocketCommunicator:
    headers = [(b"origin", origin)] if origin else []
    if user is not None:
        client = await sync_to_async(client_for)(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    communicator = WebsocketCommunicator(application, f"/ws/practice/{take_id}/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def start(communicator: WebsocketCommunicator, **options: Any) -> dict[str, Any]:
    await communicator.send_json_to({"type": "start", "sample_rate": 16000, **options})
    return await communicator.receive_json_from(timeout=10)


async def drain(
    communicator: WebsocketCommunicator, *, until: str = "saved", timeout: float = 30
) -> list[dict[str, Any]]:
    """Every event up to and including the first of type ``until`` (or until the socket closes)."""
    events: list[dict[str, Any]] = []
    while True:
        output = await communicator.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            events.append({"type": "_closed", "code": output.get("code")})
            return events
        event = json.loads(output["text"])
        events.append(event)
        if event["type"] == until:
            return events


def performance_pcm(notes: list[ScoreNote], *, tempo_factor: float = 1.0, seed: int = 0) -> tuple[bytes, list[float]]:
    audio, onsets = render_notes(notes, tempo_factor=tempo_factor, seed=seed, timbre="flute")
    return float_to_pcm16(audio), onsets


async def stream(
    communicator: WebsocketCommunicator, pcm: bytes, *, frame_bytes: int = FRAME_BYTES, speed: float | None = None
) -> None:
    """Send ``pcm`` in frames; ``speed`` paces them at that multiple of real time (None: as fast as possible)."""
    pause = 0.0 if speed is None else frame_bytes / 2 / 16000 / speed
    for start_byte in range(0, len(pcm) - frame_bytes + 1, frame_bytes):
        await communicator.send_to(bytes_data=pcm[start_byte : start_byte + frame_bytes])
        await asyncio.sleep(pause)
