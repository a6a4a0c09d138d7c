"""``manage.py follow SCORE AUDIO [--follower NAME] [--json]``: run the live follower over a recording.

The contract is in DESIGN.md ("Contracts that outside checks call"); the work is done by
``inference.following.offline_run``, which feeds the audio in 20 ms chunks to the follower that
``make_follower`` builds for the live path.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inference.following import FOLLOWERS
from inference.following.offline_run import follow_file


class Command(BaseCommand):
    help = "Follow AUDIO through SCORE (MusicXML, MIDI or ABC) with an online score follower, as the live path does."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("score", help="score file: .musicxml/.xml/.mxl, .mid/.midi or .abc")
        parser.add_argument("audio", help="recording: any format soundfile or librosa reads (wav, flac, ogg, mp3)")
        parser.add_argument(
            "--follower", default=None, help=f"follower name, one of {sorted(FOLLOWERS)} (default: ETUDE_FOLLOWER)"
        )
        parser.add_argument("--tempo-factor", type=float, default=1.0, help="expected tempo / written tempo")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["follower"] or settings.ETUDE_FOLLOWER
        if name not in FOLLOWERS:
            raise CommandError(f"unknown follower {name!r}; choose one of {sorted(FOLLOWERS)}")
        if options["tempo_factor"] <= 0:
            raise CommandError("--tempo-factor must be positive")
        try:
            run = follow_file(options["score"], options["audio"], name, tempo_factor=options["tempo_factor"])
        except ValueError as exc:  # ScoreError and AudioFileError are ValueErrors with a readable message
            raise CommandError(str(exc)) from exc
        result = run.to_contract()
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        reached = sum(1 for note in result["notes"] if note["detected_s"] is not None)
        self.stdout.write(
            f"{name}: reached {reached} of {len(result['notes'])} notes in {run.audio_s:.1f} s of audio; "
            f"per 20 ms chunk p50 {result['per_chunk_ms']['p50']} ms, p95 {result['per_chunk_ms']['p95']} ms"
        )
        for note in result["notes"]:
            detected = "never" if note["detected_s"] is None else f"{note['detected_s']:.3f} s"
            self.stdout.write(f"  {note['note_id']:>8}  q={note['score_onset_q']:<8g} {detected}")
