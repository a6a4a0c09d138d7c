"""State changes for takes: create, start, record live verdicts, finish."""

from __future__ import annotations

import io
import wave
from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from webapp.accounts.models import User
from webapp.courses.models import Lesson
from webapp.courses.selectors import can_practise
from webapp.practice.models import NoteResult, Take, TakeStatus

MIN_TEMPO_FACTOR = 0.25
MAX_TEMPO_FACTOR = 2.0
STALE_TAKE_AFTER = timedelta(hours=6)


class TakeError(ValueError):
    """A request about a take that cannot be honoured; ``code`` goes to the client."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_take_options(lesson: Lesson, tempo_factor: Any, from_measure: Any) -> tuple[float, int]:
    """Validate tempo factor and start measure against the lesson; raise ``TakeError`` otherwise."""
    try:
        tempo = float(tempo_factor)
        measure = int(from_measure)
    except (TypeError, ValueError) as exc:
        raise TakeError("invalid_options", "tempo_factor must be a number and from_measure an integer.") from exc
    if not MIN_TEMPO_FACTOR <= tempo <= MAX_TEMPO_FACTOR:
        raise TakeError("invalid_options", f"tempo_factor must be between {MIN_TEMPO_FACTOR} and {MAX_TEMPO_FACTOR}.")
    first, last = lesson.piece.first_measure, lesson.piece.measure_count
    if not first <= measure <= last:
        raise TakeError("invalid_options", f"from_measure must be between {first} and {last}.")
    return tempo, measure


def create_take(user: User, lesson: Lesson, *, tempo_factor: Any = 1.0, from_measure: Any = None) -> Take:
    if not can_practise(user, lesson):
        raise PermissionError("You are not enrolled in this lesson's course.")
    if from_measure is None:
        from_measure = lesson.piece.first_measure
    tempo, measure = check_take_options(lesson, tempo_factor, from_measure)
    return Take.objects.create(user=user, lesson=lesson, tempo_factor=tempo, from_measure=measure)


def start_take(take: Take, *, tempo_factor: float, from_measure: int, follower: str) -> Take:
    take.status = TakeStatus.LIVE
    take.started_at = timezone.now()
    take.tempo_factor = tempo_factor
    take.from_measure = from_measure
    take.follower = follower
    take.save(update_fields=["status", "started_at", "tempo_factor", "from_measure", "follower"])
    return take


def record_verdicts(take: Take, verdicts: list[dict[str, Any]]) -> None:
    """Store live verdicts as they arrive, so a take cut off mid-way keeps what was judged."""
    NoteResult.objects.bulk_create([_note_result(take, v) for v in verdicts])


@transaction.atomic
def finish_take(
    take: Take,
    *,
    verdicts: list[dict[str, Any]] | None,
    summary: dict[str, Any],
    duration_s: float,
    pcm16: bytes,
    sample_rate: int,
    reason: str,
    is_complete: bool,
) -> Take:
    """Close a take. Final verdicts (when the engine produced them) replace the live ones."""
    if verdicts is not None:
        take.note_results.all().delete()
        NoteResult.objects.bulk_create([_note_result(take, v) for v in verdicts])
    take.status = TakeStatus.FINISHED if is_complete else TakeStatus.INTERRUPTED
    take.ended_at = timezone.now()
    take.duration_s = duration_s
    take.summary = summary
    take.accuracy = summary.get("accuracy")
    take.end_reason = reason[:64]
    if pcm16:
        take.audio.save(f"take-{take.pk}.wav", ContentFile(pcm16_to_wav(pcm16, sample_rate)), save=False)
    take.save()
    return take


def close_stale_takes(now: Any = None) -> int:
    """Mark takes left live by a process that died as interrupted; returns how many."""
    cutoff = (now or timezone.now()) - STALE_TAKE_AFTER
    stale = Take.objects.filter(status=TakeStatus.LIVE, started_at__lt=cutoff)
    return stale.update(status=TakeStatus.INTERRUPTED, end_reason="stale", ended_at=timezone.now())


def pcm16_to_wav(pcm16: bytes, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm16)
    return buffer.getvalue()


def _note_result(take: Take, verdict: dict[str, Any]) -> NoteResult:
    return NoteResult(
        take=take,
        note_id=str(verdict.get("note_id") or "")[:32],
        result=str(verdict["result"])[:16],
        cents=verdict.get("cents"),
        ms=verdict.get("ms"),
        detected_s=verdict.get("detected_s"),
    )
