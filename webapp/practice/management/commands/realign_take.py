"""``manage.py realign_take ID [ID ...]``: re-run the offline alignment of finished takes (final verdicts)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.practice import services
from webapp.practice.models import Take


class Command(BaseCommand):
    help = "Replace finished takes' verdicts with the offline alignment of their stored audio."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("take_ids", nargs="+", type=int, metavar="ID")

    def handle(self, *args: Any, **options: Any) -> None:
        failed = 0
        for take_id in options["take_ids"]:
            take = Take.objects.select_related("lesson__piece").filter(pk=take_id).first()
            if take is None:
                self.stderr.write(f"take {take_id}: no such take")
                failed += 1
                continue
            try:
                take = services.realign_take(take)
            except services.TakeError as exc:
                self.stderr.write(f"take {take_id}: {exc}")
                failed += 1
                continue
            counts = ", ".join(f"{name} {count}" for name, count in sorted(take.summary.get("counts", {}).items()))
            self.stdout.write(f"take {take_id}: final verdicts ({counts}), accuracy {take.accuracy:.2f}")
        if failed:
            raise CommandError(f"{failed} take(s) not re-aligned")
