"""A simulated browser for the streaming benchmark: logs in, creates a take, streams PCM at real time.

Each ``BrowserClient`` does what the lesson page does (frontend/practice/lesson.js), over a real HTTP and
WebSocket connection: a session cookie from the login form, the CSRF token from the cookie, ``POST`` to
``take_create``, then the practice socket with the page's Origin (docs/protocol.md). It records when each
20 ms frame left and when each event arrived, so that ``position`` events (whose ``t`` is the audio time at
the end of the hop) can be matched to the frame that completed that hop.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

FRAME_MS = 20
SAMPLE_RATE = 16_000
FRAME_BYTES = SAMPLE_RATE * FRAME_MS // 1000 * 2
SAVED_TIMEOUT_S = 120.0
"""How long to wait for ``saved`` after ``stop`` (the take is judged and re-aligned first)."""
_SCORE_NOTES = re.compile(r'<script id="score-notes" type="application/json">(.*?)</script>', re.S)


class ClientError(RuntimeError):
    """The server refused a step a browser would take (login, take creation, the socket's ``started``)."""

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class TakeTrace:
    """What one simulated take saw: send times per frame and every event with its arrival time."""

    take_id: int
    frame_sent: list[float] = field(default_factory=list)
    """``time.monotonic()`` when frame k left; frame k holds audio from k·20 ms to (k+1)·20 ms."""
    positions: list[tuple[float, float]] = field(default_factory=list)
    """(t, arrival time) of each ``position`` event."""
    commands: int = 0
    """``command`` events: spoken commands the listener heard (in a played performance, false alarms)."""
    errors: Counter[str] = field(default_factory=Counter)
    """``error`` events by code (``rate_limited``, ``server_busy``...)."""
    backlog_at_stop_s: float = math.inf
    """Audio sent minus the last position ``t`` received, when ``stop`` was sent."""
    stop_to_saved_s: float = math.nan
    summary: dict[str, Any] | None = None
    is_saved: bool = False

    def latencies_ms(self, sent_between: tuple[float, float] | None = None) -> list[float]:
        """Frame-to-event latency of each position event: its arrival minus the send time of the frame whose
        last sample is at ``t``; only for frames sent within ``sent_between`` (monotonic) when given."""
        frame_s = FRAME_MS / 1000
        low, high = sent_between or (-math.inf, math.inf)
        out = []
        for t, arrived in self.positions:
            index = min(max(math.ceil(t / frame_s - 1e-6) - 1, 0), len(self.frame_sent) - 1)
            if index >= 0 and low <= self.frame_sent[index] <= high:
                out.append((arrived - self.frame_sent[index]) * 1000)
        return out


class BrowserClient:
    """One learner's browser: a cookie jar, a logged-in session, and takes streamed over the practice socket."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        # unsafe: keep cookies for an IP address host such as 127.0.0.1
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def close(self) -> None:
        await self.http.close()

    async def log_in(self) -> None:
        await self._post_form("/accounts/login/", {"username": self.username, "password": self.password})

    async def sign_up(self, class_code: str) -> None:
        """Create this learner's account with the sign-up form, then join the course with its class code."""
        form = {"username": self.username, "password1": self.password, "password2": self.password}
        await self._post_form("/accounts/signup/", {**form, "role": "learner", "email": ""})
        await self._post_form("/courses/join/", {"class_code": class_code}, page="/courses/")

    async def score_notes(self, lesson_id: int) -> list[dict[str, Any]]:
        """The lesson's notes, as the lesson page embeds them for its cursor."""
        async with self.http.get(f"{self.base_url}/practice/lessons/{lesson_id}/") as response:
            html = await response.text()
        found = _SCORE_NOTES.search(html)
        if response.status != 200 or found is None:
            raise ClientError(f"{self.username} cannot open lesson {lesson_id} (HTTP {response.status})")
        notes: list[dict[str, Any]] = json.loads(found.group(1))
        return notes

    async def create_take(self, lesson_id: int) -> tuple[int, str]:
        """``POST /practice/lessons/<id>/takes/`` as lesson.js does; returns the take id and its socket path."""
        url = f"{self.base_url}/practice/lessons/{lesson_id}/takes/"
        token = await self._csrf_token(f"/practice/lessons/{lesson_id}/")
        headers = {"X-CSRFToken": token, "Accept": "application/json"}
        async with self.http.post(url, json={"tempo_factor": 1.0}, headers=headers) as response:
            body = await response.json(content_type=None)
        if response.status != 201:
            raise ClientError(f"take_create answered {response.status}: {body}")
        return int(body["take_id"]), str(body["ws_url"])

    async def open_take(self, lesson_id: int) -> LiveTake:
        """Create a take, open its socket and send ``start``; returns once the server answered ``started``."""
        take_id, ws_path = await self.create_take(lesson_id)
        ws_url = self.base_url.replace("http", "ws", 1) + ws_path
        socket = await self.http.ws_connect(ws_url, origin=self.base_url, max_msg_size=0)
        await socket.send_str(json.dumps({"type": "start", "sample_rate": SAMPLE_RATE}))
        reply = json.loads((await socket.receive(timeout=30)).data)
        if reply.get("type") != "started":
            await socket.close()
            raise ClientError(f"take {take_id} did not start: {reply}", code=str(reply.get("code", "not_started")))
        return LiveTake(socket, TakeTrace(take_id))

    async def _post_form(self, path: str, fields: dict[str, str], page: str | None = None) -> None:
        token = await self._csrf_token(page or path)
        url = f"{self.base_url}{path}"
        async with self.http.post(url, data={**fields, "csrfmiddlewaretoken": token}, allow_redirects=False) as answer:
            if answer.status != 302:  # every one of these forms redirects on success and re-renders on failure
                raise ClientError(f"{self.username}: POST {path} answered {answer.status}, not a redirect")

    async def _csrf_token(self, page: str) -> str:
        """The CSRF cookie, fetching ``page`` first when the jar has none yet (as a browser has it from the page)."""
        token = self._cookie("csrftoken")
        if not token:
            async with self.http.get(f"{self.base_url}{page}") as response:
                await response.read()
            token = self._cookie("csrftoken")
        if not token:
            raise ClientError(f"{page} set no csrftoken cookie")
        return token

    def _cookie(self, name: str) -> str:
        for cookie in self.http.cookie_jar:
            if cookie.key == name:
                return cookie.value
        return ""


class LiveTake:
    """A started take: stream frames at real time, then stop and wait for ``saved``."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse, trace: TakeTrace) -> None:
        self.socket = socket
        self.trace = trace
        self._saved = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def stream(self, pcm16: bytes, *, start_at: float, until: float = math.inf) -> TakeTrace:
        """Send ``pcm16`` as 20 ms frames from ``start_at`` (monotonic) on, paced at real time, then ``stop``;
        frames due after ``until`` are not sent (the learner stops mid-piece)."""
        trace = self.trace
        for offset in range(0, len(pcm16) - FRAME_BYTES + 1, FRAME_BYTES):
            due = start_at + len(trace.frame_sent) * FRAME_MS / 1000
            if due > until:
                break
            if due > time.monotonic():
                await asyncio.sleep(due - time.monotonic())
            trace.frame_sent.append(time.monotonic())
            await self.socket.send_bytes(pcm16[offset : offset + FRAME_BYTES])
        sent_s = len(trace.frame_sent) * FRAME_MS / 1000
        trace.backlog_at_stop_s = sent_s - (trace.positions[-1][0] if trace.positions else 0.0)
        stopped = time.monotonic()
        await self.socket.send_str(json.dumps({"type": "stop"}))
        try:
            await asyncio.wait_for(self._saved.wait(), SAVED_TIMEOUT_S)
            trace.stop_to_saved_s = time.monotonic() - stopped
        except TimeoutError:
            trace.errors["no_saved"] += 1
        await self.close()
        return trace

    async def close(self) -> None:
        await self.socket.close()
        self._reader.cancel()

    async def _read(self) -> None:
        trace = self.trace
        async for message in self.socket:
            arrived = time.monotonic()
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            event = json.loads(message.data)
            kind = event.get("type")
            if kind == "position":
                trace.positions.append((float(event["t"]), arrived))
            elif kind == "command":
                trace.commands += 1
            elif kind == "error":
                trace.errors[str(event.get("code"))] += 1
            elif kind == "summary":
                trace.summary = event
            elif kind == "saved":
                trace.is_saved = True
                self._saved.set()
        self._saved.set()  # closed without "saved": stream() finds is_saved False
