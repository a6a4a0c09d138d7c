"""The practice socket (``/ws/practice/<take_id>/``): microphone PCM in, positions and verdicts out.

Protocol in docs/protocol.md. Every refusal is an ``error`` event with a stable ``code``; refusals that end
the socket close it with a 44xx code after the event, and whatever the take had is saved first.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlparse

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django import db
from django.conf import settings
from django.http.request import validate_host
from django.urls import reverse

from inference.following import resolve_follower
from webapp.courses.selectors import can_practise
from webapp.practice import services
from webapp.practice.engine import EngineError, EngineSession, TakeOptions, open_session
from webapp.practice.limits import FrameLimits, RateLimiter
from webapp.practice.models import Take

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_POLICY = 4408
VERDICT_FLUSH_S = 2.0


class PracticeConsumer(AsyncWebsocketConsumer):
    limits = FrameLimits()

    async def connect(self) -> None:
        self.take: Take | None = None
        self.engine: EngineSession | None = None
        self.is_finished = False
        self.pcm = bytearray()
        self.pending_verdicts: list[dict[str, Any]] = []
        self.last_flush = time.monotonic()
        self.error_count = 0
        self.rate = RateLimiter(self.limits)
        await self.accept()
        if not _origin_allowed(self.scope):
            return await self._refuse(
                "origin_not_allowed", "This page's origin may not open practice sockets.", CLOSE_FORBIDDEN
            )
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return await self._refuse("unauthenticated", "Log in to practise.", CLOSE_UNAUTHENTICATED)
        take_id = self.scope["url_route"]["kwargs"]["take_id"]
        self.take = await _load_open_take(user, take_id)
        if self.take is None:
            return await self._refuse("take_not_found", "No open take with that id is yours.", CLOSE_NOT_FOUND)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.take is None or self.is_finished:
            return
        if bytes_data is not None:
            await self._on_frame(bytes_data)
        else:
            await self._on_text(text_data or "")

    async def disconnect(self, code: int) -> None:
        if self.take is not None and self.engine is not None and not self.is_finished:
            await self._finish(reason=f"disconnected ({code})", is_complete=False)

    # -- text messages --------------------------------------------------------------------------------------

    async def _on_text(self, text: str) -> None:
        try:
            message = json.loads(text)
            kind = message["type"]
        except (ValueError, KeyError, TypeError):
            return await self._error("bad_message", "Text messages must be JSON objects with a 'type'.")
        if kind == "start":
            await self._start(message)
        elif kind == "stop":
            if self.engine is None:
                return await self._error("not_started", "Nothing to stop: send 'start' first.")
            await self._finish(reason="stopped", is_complete=True)
        elif kind == "push_to_talk":  # the learner holds the talk key: what follows is a spoken command
            if self.engine is None:
                return await self._error("not_started", "Push-to-talk needs a started take.")
            await self.engine.push_to_talk(message.get("down") is True)
        else:
            await self._error("unknown_type", f"Unknown message type {str(kind)[:40]!r}.")

    async def _start(self, message: dict[str, Any]) -> None:
        assert self.take is not None
        if self.engine is not None:
            return await self._error("already_started", "This take has started already.")
        if message.get("sample_rate") != self.limits.sample_rate:
            return await self._error(
                "unsupported_rate", f"sample_rate must be {self.limits.sample_rate} (Int16 mono PCM)."
            )
        try:
            tempo, measure = await _check_options(
                self.take, message.get("tempo_factor", 1.0), message.get("from_measure", self.take.from_measure)
            )
        except services.TakeError as exc:
            return await self._error(exc.code, str(exc))
        piece = self.take.lesson.piece
        follower = resolve_follower(self.take.lesson.follower or settings.ETUDE_FOLLOWER, piece.score_notes())
        options = TakeOptions(
            notes=piece.notes,
            tempo_factor=tempo,
            from_measure=measure,
            to_measure=self.take.to_measure,
            follower=follower,
            tolerances=self.take.tolerances,
        )
        try:
            self.engine = await open_session(self.take.pk, options, self._on_events)
        except EngineError as exc:
            return await self._error(exc.code, str(exc))
        await _start_take(self.take, tempo, measure, options.follower)
        await self._send({"type": "started", "take_id": self.take.pk, "sample_rate": self.limits.sample_rate})

    # -- audio frames ---------------------------------------------------------------------------------------

    async def _on_frame(self, frame: bytes) -> None:
        if self.engine is None:
            return await self._error("not_started", "Send 'start' before audio frames.")
        problem = self.limits.check_frame(frame)
        if problem:
            return await self._error("bad_frame", problem)
        if not self.rate.allow(len(frame) // 2, time.monotonic()):
            return await self._error("rate_limited", "Audio is arriving faster than real time; frame dropped.")
        if len(self.pcm) + len(frame) > self.limits.max_take_bytes:
            await self._error("take_too_long", f"Takes are limited to {self.limits.max_take_s // 60} minutes.")
            return await self._finish(reason="take_too_long", is_complete=True)
        self.pcm += frame
        try:
            await self.engine.feed(frame)
        except EngineError as exc:
            await self._error(exc.code, str(exc))

    async def _on_events(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            if event.get("type") == "verdict":
                self.pending_verdicts.append(event)
            elif event.get("type") == "command":
                await _record_command(self.take, event)
            await self._send(event)
        if self.pending_verdicts and time.monotonic() - self.last_flush > VERDICT_FLUSH_S:
            await self._flush_verdicts()

    async def _flush_verdicts(self) -> None:
        assert self.take is not None
        verdicts, self.pending_verdicts = self.pending_verdicts, []
        self.last_flush = time.monotonic()
        await database_sync_to_async(services.record_verdicts)(self.take, verdicts)

    # -- the end --------------------------------------------------------------------------------------------

    async def _finish(self, *, reason: str, is_complete: bool) -> None:
        assert self.take is not None and self.engine is not None
        self.is_finished = True
        verdicts: list[dict[str, Any]] | None = None
        summary: dict[str, Any] = {}
        try:
            outcome = await self.engine.finish()
            verdicts, summary = outcome.verdicts, outcome.summary
        except EngineError as exc:
            await self._error(exc.code, str(exc))
            is_complete = False
        except Exception:
            logger.exception("engine failed to finish take %s", self.take.pk)
            is_complete = False
        if verdicts is None:
            await self._flush_verdicts()
        take = await database_sync_to_async(services.finish_take)(
            self.take,
            verdicts=verdicts,
            summary=summary,
            duration_s=len(self.pcm) / 2 / self.limits.sample_rate,
            pcm16=bytes(self.pcm),
            sample_rate=self.limits.sample_rate,
            reason=reason,
            is_complete=is_complete,
            realign=False,
        )
        if take.audio:
            # With eager Celery this aligns the take before "saved" (the page then links to final verdicts). It
            # runs outside the one thread every socket's database calls share, so other takes are not held up.
            await database_sync_to_async(_realign, thread_sensitive=False)(take.pk, take.duration_s)
        await self._send({"type": "summary", **summary})
        await self._send({"type": "saved", "take_id": take.pk, "take_url": reverse("practice:take", args=[take.pk])})
        await self.close(code=1000)

    async def _error(self, code: str, message: str) -> None:
        self.error_count += 1
        await self._send({"type": "error", "code": code, "message": message})
        if self.error_count > self.limits.max_errors and self.engine is not None and not self.is_finished:
            await self._send(
                {"type": "error", "code": "too_many_errors", "message": "Too many bad messages; take saved."}
            )
            await self._finish(reason="too_many_errors", is_complete=False)

    async def _refuse(self, code: str, message: str, close_code: int) -> None:
        self.take = None
        await self._send({"type": "error", "code": code, "message": message})
        await self.close(code=close_code)

    async def _send(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(event))


def _origin_allowed(scope: dict[str, Any]) -> bool:
    """Same-site pages only: the Origin's host must be an allowed host (or listed in ETUDE_ALLOWED_WS_ORIGINS)."""
    headers = dict(scope.get("headers", []))
    origin = headers.get(b"origin", b"").decode("latin-1")
    if not origin:
        return False
    if origin in settings.ETUDE_ALLOWED_WS_ORIGINS:
        return True
    host = urlparse(origin).hostname or ""
    allowed = settings.ALLOWED_HOSTS or (["localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    return validate_host(host, allowed)


@database_sync_to_async
def _load_open_take(user: Any, take_id: int) -> Take | None:
    take = Take.objects.filter(pk=take_id, user=user).select_related("lesson__piece", "lesson__course").first()
    if take is None or not take.is_open or not can_practise(user, take.lesson):
        return None
    return take


@database_sync_to_async
def _check_options(take: Take, tempo_factor: Any, from_measure: Any) -> tuple[float, int]:
    return services.check_take_options(take.lesson, tempo_factor, from_measure, take.to_measure)


def _realign(take_id: int, duration_s: float) -> None:
    """``services.realign_saved_take`` in a thread of its own, whose database connection closes after it."""
    try:
        services.realign_saved_take(take_id, duration_s)
    finally:
        db.connections.close_all()


@database_sync_to_async
def _record_command(take: Take | None, event: dict[str, Any]) -> None:
    if take is not None:
        services.record_command(take.user, take.lesson, event, take=take)


@database_sync_to_async
def _start_take(take: Take, tempo: float, measure: int, follower: str) -> None:
    services.start_take(take, tempo_factor=tempo, from_measure=measure, follower=follower)
