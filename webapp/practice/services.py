"""State changes for takes: create, start, record live verdicts, finish, re-align offline."""

from __future__ import annotations

import io
import logging
import threading
import wave
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from webapp.accounts.models import User
from webapp.courses.models import Assignment, Lesson
from webapp.courses.selectors import can_practise
from webapp.practice.models import NoteResult, Take, TakeStatus, VerdictSource, VoiceCommand

logger = logging.getLogger(__name__)

MIN_TEMPO_FACTOR = 0.25
MAX_TEMPO_FACTOR = 2.0
STALE_TAKE_AFTER = timedelta(hours=6)


class TakeError(ValueError):
    """A request about a take that cannot be honoured; ``code`` goes to the client."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_take_options(
    lesson: Lesson, tempo_factor: Any, from_measure: Any, to_measure: int | None = None
) -> tuple[float, int]:
    """Validate tempo factor and start measure against the lesson (and the last bar judged, if any); raise
    ``TakeError`` otherwise."""
    try:
        tempo = float(tempo_factor)
        measure = int(from_measure)
    except (TypeError, ValueError) as exc:
        raise TakeError("invalid_options", "tempo_factor must be a number and from_measure an integer.") from exc
    if not MIN_TEMPO_FACTOR <= tempo <= MAX_TEMPO_FACTOR:
        raise TakeError("invalid_options", f"tempo_factor must be between {MIN_TEMPO_FACTOR} and {MAX_TEMPO_FACTOR}.")
    first, last = lesson.piece.first_measure, to_measure or lesson.piece.measure_count
    if not first <= measure <= last:
        raise TakeError("invalid_options", f"from_measure must be between {first} and {last}.")
    return tempo, measure


def check_tolerances(tolerances: Any) -> dict[str, float]:
    """Validated ``inference.feedback.Tolerances`` as a dict (empty for none); raise ``TakeError`` otherwise."""
    from inference.feedback import Tolerances

    if not tolerances:
        return {}
    if not isinstance(tolerances, dict):
        raise TakeError("invalid_options", "tolerances must be an object.")
    try:
        return Tolerances.from_dict(tolerances).to_dict()
    except (TypeError, ValueError) as exc:
        raise TakeError("invalid_options", str(exc)) from exc


def create_take(
    user: User,
    lesson: Lesson,
    *,
    tempo_factor: Any = 1.0,
    from_measure: Any = None,
    tolerances: Any = None,
    assignment: Assignment | None = None,
) -> Take:
    """A new take; ``tempo_factor`` is relative to the piece's written tempo. A take made for ``assignment``
    starts at its first bar unless told otherwise and is judged by its tolerances."""
    if not can_practise(user, lesson):
        raise PermissionError("You are not enrolled in this lesson's course.")
    if assignment is not None and assignment.lesson_id != lesson.pk:
        raise TakeError("invalid_options", "That assignment is not for this lesson.")
    if from_measure is None:
        from_measure = assignment.first_bar if assignment else lesson.piece.first_measure
    to_measure = assignment.to_measure if assignment else None
    tempo, measure = check_take_options(lesson, tempo_factor, from_measure, to_measure)
    # The instructor's tolerances (the assignment's over the lesson's) apply unless the request names its own.
    chosen = (assignment.judged_with if assignment else lesson.tolerances) if tolerances is None else tolerances
    return Take.objects.create(
        user=user,
        lesson=lesson,
        assignment=assignment,
        tempo_factor=tempo,
        from_measure=measure,
        to_measure=to_measure,
        tolerances=check_tolerances(chosen),
    )


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
    realign: bool = True,
) -> Take:
    """Close a take. Final verdicts (when the engine produced them) replace the live ones. With ``realign`` the
    offline alignment is scheduled once this commits; the practice socket passes False and calls
    ``realign_saved_take`` itself, off the thread that all sockets share for the database."""
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
    take.verdict_source = VerdictSource.LIVE
    take.save()
    if pcm16 and realign and settings.ETUDE_REALIGN_TAKES:
        duration = len(pcm16) / 2 / sample_rate
        transaction.on_commit(lambda: realign_saved_take(take.pk, duration))
    return take


def schedule_realign(take_id: int, *, duration_s: float) -> None:
    """Queue the offline re-alignment of a finished take. With eager Celery (the embedded default) a take of
    up to ``ETUDE_REALIGN_INLINE_MAX_S`` is re-aligned before this returns (so the saved take already shows
    final verdicts); a longer one in a background thread, so the socket is not held up."""
    from webapp.practice import tasks

    if not settings.CELERY_TASK_ALWAYS_EAGER:
        tasks.realign_take.delay(take_id)
    elif duration_s <= settings.ETUDE_REALIGN_INLINE_MAX_S:
        tasks.realign_take.apply(args=(take_id,))
    else:
        threading.Thread(target=tasks.realign_take.apply, args=((take_id,),), daemon=True).start()


def realign_saved_take(take_id: int, duration_s: float) -> None:
    """Schedule (with eager Celery: run) the offline alignment of a saved take; never raises."""
    if not settings.ETUDE_REALIGN_TAKES:
        return
    try:
        schedule_realign(take_id, duration_s=duration_s)
    except Exception:  # a broker outage must not lose the take that was just saved
        logger.exception("could not schedule the offline alignment of take %s", take_id)


def realign_take(take: Take) -> Take:
    """Replace a finished take's verdicts and summary with the offline alignment of its stored audio.

    Raises ``TakeError`` (``no_audio``, ``take_open``) when there is nothing to align; an alignment failure is
    recorded on the take (``realign_error``) and re-raised, and the live verdicts stay.
    """
    from inference.alignment import align_take
    from inference.audio import load_audio
    from inference.feedback import Tolerances

    if take.is_open:
        raise TakeError("take_open", "The take is still being recorded.")
    if not take.audio:
        raise TakeError("no_audio", "This take has no stored audio to align.")
    try:
        with take.audio.open("rb") as stored:
            audio = load_audio(io.BytesIO(stored.read()))
        result = align_take(
            take.lesson.piece.score_notes(),
            audio,
            Tolerances.from_dict(take.tolerances),
            tempo_factor=take.tempo_factor,
            from_measure=take.from_measure,
            to_measure=take.to_measure,
        )
    except Exception as exc:
        logger.exception("offline alignment of take %s failed", take.pk)
        Take.objects.filter(pk=take.pk).update(realign_error=f"{type(exc).__name__}: {exc}"[:200])
        raise
    return _store_final_verdicts(take, [v.to_event() for v in result.verdicts], result.summary.to_event())


@transaction.atomic
def _store_final_verdicts(take: Take, verdicts: list[dict[str, Any]], summary: dict[str, Any]) -> Take:
    summary = {k: v for k, v in summary.items() if k != "type"}
    summary["duration_s"] = take.duration_s  # what was received, as the live summary said
    take.note_results.all().delete()
    NoteResult.objects.bulk_create([_note_result(take, v) for v in verdicts])
    take.summary = summary
    take.accuracy = summary.get("accuracy")
    take.verdict_source = VerdictSource.FINAL
    take.realigned_at = timezone.now()
    take.realign_error = ""
    take.save(update_fields=["summary", "accuracy", "verdict_source", "realigned_at", "realign_error"])
    return take


def record_command(user: User, lesson: Lesson, event: dict[str, Any], *, take: Take | None = None) -> VoiceCommand:
    """Keep a ``command`` event (from a take's stream or a clip between takes) for the admins' review."""
    intent = dict(event.get("intent") or {})
    name = str(intent.pop("name", "unknown"))[:32]
    source = str(event.get("source") or (VoiceCommand.Source.VOICE if take else VoiceCommand.Source.CLIP))
    confidence, t = event.get("confidence"), event.get("t")
    return VoiceCommand.objects.create(
        user=user,
        lesson=lesson,
        take=take,
        source=source if source in VoiceCommand.Source.values else VoiceCommand.Source.VOICE,
        text=str(event.get("text") or "")[:500],
        intent=name,
        slots=intent,
        confidence=float(confidence) if isinstance(confidence, int | float) else None,
        t=float(t) if isinstance(t, int | float) else None,
    )


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
