"""JSON endpoints for the lesson page's "next up" panel: the recommendation, overriding it, rating a take."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from inference.tutor.exercises import HELP_LABELS, HELPS
from webapp.courses.models import Lesson
from webapp.courses.selectors import can_practise
from webapp.tutor import selectors, services
from webapp.tutor.models import Decision

MAX_BODY_BYTES = 2048


@login_required
@require_GET
def next_up(request: HttpRequest) -> JsonResponse:
    """The learner's recommendation in the course of ``?lesson=<id>`` (made on first ask, then kept)."""
    try:
        lesson_id = int(request.GET.get("lesson", ""))
    except ValueError:
        return _error("bad_request", "Give the lesson as ?lesson=<id>.", 400)
    lesson = Lesson.objects.select_related("course").filter(pk=lesson_id).first()
    if lesson is None or not can_practise(request.user, lesson):
        raise Http404("No such lesson.")
    try:
        decision = services.choose_next_exercise(request.user, lesson.course)
    except LookupError as exc:
        return _error("no_exercises", str(exc), 404)
    return JsonResponse(describe(decision, current_lesson=lesson))


@login_required
@require_POST
def override(request: HttpRequest, decision_id: int) -> JsonResponse:
    decision = selectors.decisions_visible_to(request.user).filter(pk=decision_id, learner=request.user).first()
    if decision is None:
        raise Http404("No such decision.")
    payload = _payload(request)
    if payload is None:
        return _error("bad_request", "Send a JSON object.", 400)
    try:
        decision = services.override_decision(
            request.user, decision, exercise_key=payload.get("exercise"),
            tempo_factor=payload.get("tempo_factor", decision.tempo_factor), help_=payload.get("help", "none"),
        )
    except services.TutorError as exc:
        return _error(exc.code, str(exc), 400)
    return JsonResponse(describe(decision))


@login_required
@require_POST
def rate_take(request: HttpRequest, take_id: int) -> JsonResponse:
    """The learner's 1-5 rating of the exercise they just played (their own, finished takes only)."""
    take = get_object_or_404(selectors.takes_of(request.user), pk=take_id)
    payload = _payload(request)
    if payload is None:
        return _error("bad_request", "Send a JSON object or a form with 'rating'.", 400)
    try:
        saved = services.rate_take(request.user, take, payload.get("rating"))
    except services.TutorError as exc:
        return _error(exc.code, str(exc), 400)
    return JsonResponse({"take_id": take.pk, "rating": saved.rating})


def describe(decision: Decision, current_lesson: Lesson | None = None) -> dict[str, Any]:
    """A decision as the page shows it, with what the learner may choose instead."""
    choice = decision.override or {}
    lesson_id = choice.get("lesson_id", decision.lesson_id)
    start = choice.get("from_measure", decision.from_measure) if choice else decision.from_measure
    tempo = choice.get("tempo_factor", decision.tempo_factor)
    help_ = choice.get("help", decision.help)
    query = {"tempo": round(tempo * 100)} | ({"from": start} if start is not None else {})
    titles = _titles(decision)
    return {
        "decision_id": decision.pk,
        "title": titles.get(choice.get("exercise_key", decision.exercise_key), decision.exercise_title),
        "lesson_id": lesson_id,
        "lesson_url": reverse("practice:lesson", args=[lesson_id]) + "?" + urlencode(query),
        "is_current_lesson": current_lesson is not None and current_lesson.pk == lesson_id,
        "from_measure": start,
        "to_measure": choice.get("to_measure", decision.to_measure) if choice else decision.to_measure,
        "tempo_factor": tempo,
        "help": help_,
        "help_label": HELP_LABELS[help_],
        "reason": decision.reason if not decision.is_overridden else "Your own choice.",
        "recommended": {"title": decision.exercise_title, "reason": decision.reason},
        "probability": round(decision.probability, 4),
        "policy": str(decision.policy_version),
        "is_overridden": decision.is_overridden,
        "override_url": reverse("tutor:override", args=[decision.pk]),
        "choices": [{"key": k, "title": t} for k, t in titles.items()],
        "helps": [{"key": h, "label": HELP_LABELS[h]} for h in HELPS],
    }


def _titles(decision: Decision) -> dict[str, str]:
    keys = decision.context.get("keys", [])
    titles = decision.context.get("titles") or keys
    return dict(zip(keys, titles, strict=False))


def _payload(request: HttpRequest) -> dict[str, Any] | None:
    if len(request.body) > MAX_BODY_BYTES:
        return None
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    return request.POST.dict()


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": code, "message": message}, status=status)
