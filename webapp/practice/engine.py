"""The bridge from a practice socket to the listening engine, in-process or in separate worker processes.

Both modes run ``inference.session.TakeSession``; they differ only in where. ``open_session`` picks the mode
from ``settings.ETUDE_INFERENCE_MODE`` at call time:
- ``inprocess``: the session lives in the web process; each frame is processed in a shared thread pool.
- ``worker``: the take is offered on the ``etude-inference`` channel; the first ``inference_worker`` process
  to take it answers with its private channel, and all later frames of that take go there (a take sticks to
  its worker). Events come back on a private channel of this session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels.layers import get_channel_layer
from django.conf import settings

logger = logging.getLogger(__name__)

INFERENCE_CHANNEL = "etude-inference"
ACCEPT_TIMEOUT_S = 5.0
FINISH_TIMEOUT_S = 15.0
LATE_ACCEPT_S = 60.0
"""How long a take the web process gave up on (``no_worker``) is still watched for a late acceptance, so that
the worker is told to drop it instead of holding it until its idle timeout."""

EventSink = Callable[[list[dict[str, Any]]], Awaitable[None]]


class EngineError(RuntimeError):
    """The listening engine cannot serve this take; ``code`` goes to the client."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class TakeOptions:
    notes: list[dict[str, Any]]
    tempo_factor: float
    from_measure: int
    follower: str
    tolerances: dict[str, float] = field(default_factory=dict)
    """``inference.feedback.Tolerances`` as a dict (empty: the defaults)."""
    to_measure: int | None = None
    """The last bar judged (an assignment's excerpt); None: to the end."""


@dataclass
class TakeOutcome:
    verdicts: list[dict[str, Any]]
    summary: dict[str, Any]


class EngineSession(Protocol):
    async def feed(self, pcm16: bytes) -> None: ...
    async def push_to_talk(self, is_down: bool) -> None: ...
    async def finish(self) -> TakeOutcome: ...
    async def abort(self) -> None: ...


async def open_session(take_id: int, options: TakeOptions, on_events: EventSink) -> EngineSession:
    if settings.ETUDE_INFERENCE_MODE == "worker":
        session = RemoteSession(take_id, options, on_events)
        await session.open()
        return session
    return await LocalSession.open(options, on_events)


# -- in-process -------------------------------------------------------------------------------------------

_pool: ThreadPoolExecutor | None = None


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=settings.ETUDE_INFERENCE_THREADS, thread_name_prefix="etude-infer")
    return _pool


LOCAL_BACKLOG_FRAMES = 500
"""Frames a local take may have waiting for the engine (10 s of 20 ms frames; as the channel layer's capacity)."""


class LocalSession:
    """A take processed in this process; frames of one take are handled in order, by one task.

    As in worker mode, ``feed`` only queues the frame: the socket goes on reading while the engine works, so
    the consumer's rate limit sees when frames arrive rather than how fast the engine (or a busy CPU) is.
    """

    def __init__(self, runner: TakeRunner, on_events: EventSink) -> None:
        self.runner = runner
        self.on_events = on_events
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(LOCAL_BACKLOG_FRAMES)
        self._failure: Exception | None = None
        self._task = asyncio.create_task(self._run())

    @classmethod
    async def open(cls, options: TakeOptions, on_events: EventSink) -> LocalSession:
        loop = asyncio.get_running_loop()
        runner = await loop.run_in_executor(_thread_pool(), TakeRunner, options)
        return cls(runner, on_events)

    async def feed(self, pcm16: bytes) -> None:
        try:
            self._queue.put_nowait(("frame", pcm16))
        except asyncio.QueueFull as exc:
            raise EngineError("server_busy", "The listening engine is overloaded; audio was dropped.") from exc

    async def push_to_talk(self, is_down: bool) -> None:
        await self._queue.put(("push_to_talk", is_down))

    async def finish(self) -> TakeOutcome:
        await self._queue.put(("finish", None))
        await self._task
        if self._failure is not None:
            raise EngineError("engine_error", f"The listening engine failed: {self._failure}")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_thread_pool(), self.runner.finish)

    async def abort(self) -> None:
        self._task.cancel()

    async def _run(self) -> None:
        """Feed queued frames and key presses to the runner in order, until ``finish`` is queued."""
        loop = asyncio.get_running_loop()
        while True:
            kind, payload = await self._queue.get()
            if kind == "finish":
                return
            if self._failure is not None:
                continue  # the take is broken: drop the rest, finish() reports it
            step = self.runner.feed if kind == "frame" else self.runner.push_to_talk
            try:
                events = await loop.run_in_executor(_thread_pool(), step, payload)
            except Exception as exc:
                logger.exception("the listening engine failed on a local take")
                self._failure = exc
                events = [{"type": "error", "code": "engine_error", "message": "The listening engine failed."}]
            if events:
                await self.on_events(events)


class TakeRunner:
    """Synchronous wrapper of ``TakeSession`` shared by both modes: PCM bytes in, protocol dicts out."""

    def __init__(self, options: TakeOptions) -> None:
        from inference.audio import pcm16_to_float
        from inference.session import TakeSession
        from inference.types import ScoreNote

        self._decode = pcm16_to_float  # looked up once, not on every 20 ms frame
        notes = [ScoreNote.from_dict(n) for n in options.notes]
        from inference.feedback import Tolerances

        self.session = TakeSession(
            notes,
            follower=options.follower,
            tempo_factor=options.tempo_factor,
            from_measure=options.from_measure,
            to_measure=options.to_measure,
            tolerances=Tolerances.from_dict(options.tolerances),
            listener=_command_listener(),
        )

    def push_to_talk(self, is_down: bool) -> list[dict[str, Any]]:
        listener = self.session.listener
        return listener.push_to_talk(is_down) if listener is not None else []

    def feed(self, pcm16: bytes) -> list[dict[str, Any]]:
        return self.session.feed(self._decode(pcm16))

    def finish(self) -> TakeOutcome:
        verdicts, summary = self.session.finish()
        return TakeOutcome(
            verdicts=[v.to_event() for v in verdicts],
            summary={k: v for k, v in summary.to_event().items() if k != "type"},
        )


def _command_listener() -> Any:
    """The take's spoken-command listener (inference.speech), or None when ETUDE_VOICE_COMMANDS is off."""
    if not settings.ETUDE_VOICE_COMMANDS:
        return None
    from inference.speech.listener import CommandListener, ListenerConfig

    return CommandListener(ListenerConfig(engine=settings.ETUDE_SPEECH_ENGINE))


# -- separate worker processes ------------------------------------------------------------------------------


@dataclass
class RemoteSession:
    """A take served by an ``inference_worker`` process through the channel layer."""

    take_id: int
    options: TakeOptions
    on_events: EventSink
    worker_channel: str = ""
    reply_channel: str = ""
    _reader: asyncio.Task[None] | None = None
    _accepted: asyncio.Future[str] | None = None
    _finished: asyncio.Future[TakeOutcome] | None = None
    _late: asyncio.Task[None] | None = None

    async def open(self) -> None:
        layer = get_channel_layer()
        loop = asyncio.get_running_loop()
        self.reply_channel = (
            await layer.new_channel()
        )  # the default prefix: channels_redis reads all of a process's channels in one loop
        self._accepted = loop.create_future()
        self._finished = loop.create_future()
        self._reader = asyncio.create_task(self._read_replies())
        await layer.send(
            INFERENCE_CHANNEL,
            {
                "type": "take.open",
                "take_id": self.take_id,
                "reply_to": self.reply_channel,
                "notes": self.options.notes,
                "tempo_factor": self.options.tempo_factor,
                "from_measure": self.options.from_measure,
                "to_measure": self.options.to_measure,
                "follower": self.options.follower,
                "tolerances": self.options.tolerances,
            },
        )
        try:
            self.worker_channel = await asyncio.wait_for(asyncio.shield(self._accepted), ACCEPT_TIMEOUT_S)
        except EngineError:
            await self._stop_reader()
            raise
        except TimeoutError as exc:
            # A busy worker may still accept the offer after we gave up: then tell it to drop the take.
            self._late = asyncio.create_task(self._abort_if_accepted_late())
            raise EngineError("no_worker", "No listening worker answered; try again in a moment.") from exc

    async def feed(self, pcm16: bytes) -> None:
        layer = get_channel_layer()
        try:
            await layer.send(self.worker_channel, {"type": "take.frame", "take_id": self.take_id, "pcm": pcm16})
        except Exception as exc:  # ChannelFull: the worker is not keeping up
            raise EngineError("server_busy", "The listening worker is overloaded; audio was dropped.") from exc

    async def push_to_talk(self, is_down: bool) -> None:
        message = {"type": "take.push_to_talk", "take_id": self.take_id, "down": is_down}
        await get_channel_layer().send(self.worker_channel, message)

    async def finish(self) -> TakeOutcome:
        assert self._finished is not None
        layer = get_channel_layer()
        await layer.send(self.worker_channel, {"type": "take.finish", "take_id": self.take_id})
        try:
            return await asyncio.wait_for(asyncio.shield(self._finished), FINISH_TIMEOUT_S)
        except TimeoutError as exc:
            raise EngineError("worker_lost", "The listening worker stopped answering.") from exc
        finally:
            await self._stop_reader()

    async def abort(self) -> None:
        if self.worker_channel:
            await get_channel_layer().send(self.worker_channel, {"type": "take.abort", "take_id": self.take_id})
        await self._stop_reader()

    async def _abort_if_accepted_late(self) -> None:
        assert self._accepted is not None
        try:
            self.worker_channel = await asyncio.wait_for(asyncio.shield(self._accepted), LATE_ACCEPT_S)
        except (TimeoutError, EngineError):
            await self._stop_reader()
            return
        await self.abort()

    async def _stop_reader(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()

    async def _read_replies(self) -> None:
        layer = get_channel_layer()
        assert self._accepted is not None and self._finished is not None
        while True:
            message = await layer.receive(self.reply_channel)
            kind = message.get("type")
            if kind == "take.accepted" and not self._accepted.done():
                self._accepted.set_result(message["worker"])
            elif kind == "take.events":
                await self.on_events(message["events"])
            elif kind == "take.finished" and not self._finished.done():
                self._finished.set_result(TakeOutcome(verdicts=message["verdicts"], summary=message["summary"]))
                return
            elif kind == "take.error":
                logger.warning("worker error on take %s: %s", self.take_id, message.get("message"))
                if not self._accepted.done():
                    self._accepted.set_exception(EngineError("engine_error", str(message.get("message", ""))))
                    return
                await self.on_events([{"type": "error", "code": "engine_error", "message": message.get("message", "")}])
