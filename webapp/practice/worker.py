"""The inference worker loop: serves takes offered on the channel layer (``manage.py inference_worker``).

Each take gets its own ordered queue and runs on a thread pool, so many takes share one process while the
frames of each take stay in order. Nothing durable lives here: the web process keeps the audio and verdicts.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.layers import BaseChannelLayer

from webapp.practice.engine import INFERENCE_CHANNEL, TakeOptions, TakeRunner

logger = logging.getLogger(__name__)

IDLE_TAKE_TIMEOUT_S = 120.0
"""A take with no message for this long is dropped (its web process went away)."""


class InferenceWorker:
    def __init__(self, layer: BaseChannelLayer, *, threads: int, max_takes: int) -> None:
        self.layer = layer
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="etude-worker")
        self.max_takes = max_takes
        self.takes: dict[int, asyncio.Queue[dict[str, Any]]] = {}
        self.channel = ""

    async def serve(self, *, stop: asyncio.Event | None = None) -> None:
        self.channel = await self.layer.new_channel()
        logger.info("inference worker listening on %s (private %s)", INFERENCE_CHANNEL, self.channel)
        stop = stop or asyncio.Event()
        tasks = [asyncio.create_task(self._serve_offers()), asyncio.create_task(self._serve_private())]
        await stop.wait()
        for task in tasks:
            task.cancel()

    async def _serve_offers(self) -> None:
        while True:
            if len(self.takes) >= self.max_takes:
                await asyncio.sleep(0.05)  # full: leave offers to other workers
                continue
            message = await self.layer.receive(INFERENCE_CHANNEL)
            if message.get("type") == "take.open":
                await self._open(message)

    async def _serve_private(self) -> None:
        while True:
            message = await self.layer.receive(self.channel)
            queue = self.takes.get(message.get("take_id", -1))
            if queue is not None:
                queue.put_nowait(message)

    async def _open(self, message: dict[str, Any]) -> None:
        take_id, reply_to = int(message["take_id"]), str(message["reply_to"])
        options = TakeOptions(
            notes=message["notes"],
            tempo_factor=float(message["tempo_factor"]),
            from_measure=int(message["from_measure"]),
            to_measure=None if message.get("to_measure") is None else int(message["to_measure"]),
            follower=str(message["follower"]),
            tolerances=dict(message.get("tolerances") or {}),
        )
        loop = asyncio.get_running_loop()
        try:
            runner = await loop.run_in_executor(self.pool, TakeRunner, options)
        except Exception as exc:
            logger.exception("cannot open take %s", take_id)
            await self.layer.send(reply_to, {"type": "take.error", "message": str(exc)})
            return
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.takes[take_id] = queue
        asyncio.create_task(self._run_take(take_id, runner, queue, reply_to))
        await self.layer.send(reply_to, {"type": "take.accepted", "take_id": take_id, "worker": self.channel})

    async def _run_take(
        self, take_id: int, runner: TakeRunner, queue: asyncio.Queue[dict[str, Any]], reply_to: str
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                message = await asyncio.wait_for(queue.get(), IDLE_TAKE_TIMEOUT_S)
                kind = message.get("type")
                if kind == "take.frame":
                    events = await loop.run_in_executor(self.pool, runner.feed, message["pcm"])
                    if events:
                        await self.layer.send(reply_to, {"type": "take.events", "events": events})
                elif kind == "take.push_to_talk":
                    events = await loop.run_in_executor(self.pool, runner.push_to_talk, bool(message.get("down")))
                    if events:
                        await self.layer.send(reply_to, {"type": "take.events", "events": events})
                elif kind == "take.finish":
                    outcome = await loop.run_in_executor(self.pool, runner.finish)
                    await self.layer.send(
                        reply_to, {"type": "take.finished", "verdicts": outcome.verdicts, "summary": outcome.summary}
                    )
                    return
                elif kind == "take.abort":
                    logger.info("take %s aborted by its web process", take_id)
                    return
        except TimeoutError:
            logger.warning("take %s idle for %.0f s; dropped", take_id, IDLE_TAKE_TIMEOUT_S)
        except Exception as exc:
            logger.exception("take %s failed", take_id)
            await self.layer.send(reply_to, {"type": "take.error", "message": str(exc)})
        finally:
            self.takes.pop(take_id, None)
