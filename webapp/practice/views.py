from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from webapp.courses.grading import grades_for
from webapp.courses.models import Assignment, Lesson
from webapp.courses.selectors import can_practise
from webapp.practice import selectors, services
from webapp.practice.limits import FrameLimits

MAX_TAKE_REQUEST_BYTES = 4096


@login_required
def lesson(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = _practisable_lesson(request, lesson_id)
    piece = lesson.piece
    try:
        assignment = _assignment_of(lesson, request.GET.get("assignment"))
    except services.TakeError as exc:
        raise Http404(str(exc)) from exc
    config = {
        "lesson_id": lesson.pk,
        "take_create_url": reverse("practice:take_create", args=[lesson.pk]),
        "history_url": reverse("practice:history"),
        "tempo_bpm": lesson.target_bpm,
        "written_bpm": piece.tempo_bpm,
        "measures": piece.measure_count,
        "first_measure": piece.first_measure,
        "sample_rate": FrameLimits.sample_rate,
        "voice_url": reverse("practice:voice_command", args=[lesson.pk]) if settings.ETUDE_VOICE_COMMANDS else "",
        **_neighbour_lesson_urls(lesson),
        "assignment": _assignment_config(assignment) if assignment else None,
    }
    recent = selectors.history_for(request.user).filter(lesson=lesson)[:5]
    context = {
        "lesson": lesson,
        "score_svg": mark_safe(piece.svg),  # produced by Verovio from our own normalised MusicXML
        "lesson_config": config,
        "score_notes": piece.notes,
        "recent_takes": recent,
        "assignment": assignment,
        "grade": grades_for([request.user], [assignment])[request.user.pk][0] if assignment else None,
    }
    return render(request, "practice/lesson.html", context)


@login_required
@require_POST
def take_create(request: HttpRequest, lesson_id: int) -> JsonResponse:
    lesson = _practisable_lesson(request, lesson_id)
    if len(request.body) > MAX_TAKE_REQUEST_BYTES:
        return JsonResponse({"error": "request_too_large"}, status=413)
    try:
        payload = json.loads(request.body or b"{}")
        if not isinstance(payload, dict):
            raise ValueError
    except ValueError:
        return JsonResponse({"error": "bad_request", "message": "Send a JSON object."}, status=400)
    try:
        take = services.create_take(
            request.user,
            lesson,
            tempo_factor=payload.get("tempo_factor", 1.0),
            from_measure=payload.get("from_measure"),
            assignment=_assignment_of(lesson, payload.get("assignment_id")),
        )
    except services.TakeError as exc:
        return JsonResponse({"error": exc.code, "message": str(exc)}, status=400)
    return JsonResponse(
        {
            "take_id": take.pk,
            "ws_url": f"/ws/practice/{take.pk}/",
            "take_url": reverse("practice:take", args=[take.pk]),
        },
        status=201,
    )


@login_required
def history(request: HttpRequest) -> HttpResponse:
    takes = selectors.history_for(request.user)[:200]
    return render(request, "practice/history.html", {"takes": takes})


@login_required
def take_detail(request: HttpRequest, take_id: int) -> HttpResponse:
    take = selectors.takes_visible_to(request.user).filter(pk=take_id).first()
    if take is None:
        raise Http404("No such take.")
    results = list(take.note_results.all())
    notes = {n["note_id"]: n for n in take.lesson.piece.notes}
    rows = [(r, notes.get(r.note_id)) for r in results]
    return render(request, "practice/take_detail.html", {"take": take, "rows": rows})


@login_required
@require_POST
def voice_command(request: HttpRequest, lesson_id: int) -> JsonResponse:
    """A spoken command between takes: the body is 16 kHz Int16 PCM; the answer is text and intent."""
    lesson = _practisable_lesson(request, lesson_id)
    from inference.audio import pcm16_to_float
    from inference.speech.offline import MAX_CLIP_S, ClipError, transcribe_clip

    body = request.body
    if not settings.ETUDE_VOICE_COMMANDS:
        return JsonResponse({"error": "voice_off", "message": "Voice commands are turned off here."}, status=404)
    if len(body) % 2 or len(body) > MAX_CLIP_S * FrameLimits.sample_rate * 2:
        message = f"Send at most {MAX_CLIP_S:g} s of 16 kHz Int16 mono PCM (an even number of bytes)."
        return JsonResponse({"error": "bad_audio", "message": message}, status=400)
    try:
        result = transcribe_clip(pcm16_to_float(body), engine=settings.ETUDE_SPEECH_ENGINE)
    except ClipError as exc:
        return JsonResponse({"error": "bad_audio", "message": str(exc)}, status=400)
    services.record_command(request.user, lesson, {**result, "source": "clip"})
    return JsonResponse({"type": "command", "source": "push_to_talk", **result})


def _neighbour_lesson_urls(lesson: Lesson) -> dict[str, str]:
    """Where "next exercise" and "previous exercise" lead: the course's lessons in their order."""
    ids = list(Lesson.objects.filter(course_id=lesson.course_id).order_by("order", "id").values_list("id", flat=True))
    at = ids.index(lesson.pk)
    url = lambda i: reverse("practice:lesson", args=[ids[i]]) if 0 <= i < len(ids) else ""  # noqa: E731
    return {"next_lesson_url": url(at + 1), "previous_lesson_url": url(at - 1)}


def _assignment_of(lesson: Lesson, assignment_id: Any) -> Assignment | None:
    """The lesson's assignment with that id (None for none given); ``TakeError`` for any other value."""
    if assignment_id in (None, ""):
        return None
    try:
        assignment = Assignment.objects.get(pk=int(assignment_id), lesson=lesson)
    except (TypeError, ValueError, Assignment.DoesNotExist) as exc:
        raise services.TakeError("invalid_options", "That assignment is not for this lesson.") from exc
    assignment.lesson = lesson  # already loaded, with its piece
    return assignment


def _assignment_config(assignment: Assignment) -> dict[str, Any]:
    """What the lesson page needs to set up a take of ``assignment`` and stop it after its last bar."""
    return {
        "id": assignment.pk,
        "title": assignment.title,
        "from_measure": assignment.first_bar,
        "to_measure": assignment.last_bar,
        "tempo_bpm": assignment.target_bpm,
    }


def _practisable_lesson(request: HttpRequest, lesson_id: int) -> Lesson:
    lesson = get_object_or_404(Lesson.objects.select_related("piece", "course"), pk=lesson_id)
    if not can_practise(request.user, lesson):
        raise Http404("No such lesson.")
    return lesson
