"""``manage.py transcribe AUDIO [--json]``: what a spoken command says and means (see docs/speech.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Speech to text plus intent for one audio clip (WAV, FLAC, OGG, MP3; at most 30 s)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("audio", help="path of the audio file")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--engine", default=None, help="speech engine (default: ETUDE_SPEECH_ENGINE)")

    def handle(self, *args: Any, **options: Any) -> None:
        from inference.audio import load_audio
        from inference.speech.offline import ClipError, transcribe_clip
        from inference.speech.recognizer import ENGINES

        path = Path(options["audio"])
        engine = options["engine"] or settings.ETUDE_SPEECH_ENGINE
        if engine not in ENGINES:
            raise CommandError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
        if not path.is_file():
            raise CommandError(f"no such audio file: {path}")
        try:
            samples = load_audio(path)
        except Exception as exc:
            raise CommandError(f"cannot read {path} as audio: {exc}") from exc
        try:
            result = transcribe_clip(samples, engine=engine)
        except ClipError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(f"text:    {result['text']!r}\nintent:  {json.dumps(result['intent'])}")
            self.stdout.write(f"heard:   {result['heard']}\nlatency: {result['latency_ms']} ms ({result['engine']})")
