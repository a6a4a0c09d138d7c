"""``manage.py inference_worker``: a listening-engine process reached through the Redis channel layer."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from channels.layers import get_channel_layer
from django.core.management.base import BaseCommand, CommandError

from webapp.practice.worker import InferenceWorker


class Command(BaseCommand):
    help = "Serve live takes from the channel layer (use with ETUDE_INFERENCE_MODE=worker and REDIS_URL)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--threads", type=int, default=2, help="Compute threads (default 2).")
        parser.add_argument("--max-takes", type=int, default=64, help="Most concurrent takes (default 64).")

    def handle(self, *args: Any, **options: Any) -> None:
        layer = get_channel_layer()
        if layer is None or type(layer).__name__ == "InMemoryChannelLayer":
            raise CommandError("inference_worker needs a shared channel layer: set REDIS_URL.")
        worker = InferenceWorker(layer, threads=options["threads"], max_takes=options["max_takes"])
        asyncio.run(self._run(worker))

    async def _run(self, worker: InferenceWorker) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        self.stdout.write(self.style.SUCCESS("Inference worker ready."))
        self.stdout.flush()
        await worker.serve(stop=stop)
