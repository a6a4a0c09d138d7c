"""The composer page and its JSON endpoints: thin wrappers around ``services`` and ``selectors``."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from inference.composer.export import track_to_midi, track_to_musicxml
from inference.composer.loop import EXTRA_RATINGS
from inference.composer.track import (
    MAX_BASE_NOTE,
    MAX_LENGTH,
    MAX_TEMPO_BPM,
    MIN_BASE_NOTE,
    MIN_LENGTH,
    MIN_TEMPO_BPM,
    SCALES,
    Track,
    TrackParams,
)
from webapp.composer import selectors, services
from webapp.composer.models import Melody, Variant

MAX_BODY_BYTES = 4096
STATUS_BY_CODE = {"not_found": 404, "already_rated": 409, "not_current": 409}


@login_required
def page(request: HttpRequest) -> HttpResponse:
    limits = {
        "base_note": [MIN_BASE_NOTE, MAX_BASE_NOTE],
        "length": [MIN_LENGTH, MAX_LENGTH],
        "tempo_bpm": [MIN_TEMPO_BPM, MAX_TEMPO_BPM],
    }
    context = {
        "state": selectors.composer_state(request.user),
        "scales": [(name, name.replace("_", " ")) for name in SCALES],
        "variants": Variant.choices,
        "defaults": TrackParams().to_dict(),
        "limits": limits,
        "extras": EXTRA_RATINGS,
        "ratings": range(1, 11),
    }
    return render(request, "composer/page.html", context)


@login_required
@require_GET
def state(request: HttpRequest) -> JsonResponse:
    return JsonResponse(selectors.composer_state(request.user))


@login_required
@require_POST
def session_create(request: HttpRequest) -> JsonResponse:
    try:
        params, variant = services.parse_params(_body(request))
        services.start_session(request.user, params, variant)
    except services.ComposerError as exc:
        return _error(exc)
    return JsonResponse(selectors.composer_state(request.user), status=201)


@login_required
@require_POST
def rate(request: HttpRequest, melody_id: int) -> JsonResponse:
    try:
        body = _body(request)
        extras = body.get("extras") or {}
        if not isinstance(extras, dict):
            raise services.ComposerError("invalid_rating", "extras must be an object of sub-ratings.")
        services.rate_melody(request.user, melody_id, body.get("rating"), extras)
    except services.ComposerError as exc:
        return _error(exc)
    return JsonResponse(selectors.composer_state(request.user))


@login_required
@require_GET
def midi(request: HttpRequest, melody_id: int) -> HttpResponse:
    melody, params = _own_melody(request, melody_id)
    response = HttpResponse(track_to_midi(Track.from_dict(melody.track), params), content_type="audio/midi")
    response["Content-Disposition"] = f'attachment; filename="etude-melody-{melody.pk}.mid"'
    return response


@login_required
@require_GET
def musicxml(request: HttpRequest, melody_id: int) -> HttpResponse:
    melody, params = _own_melody(request, melody_id)
    text = track_to_musicxml(Track.from_dict(melody.track), params, title=f"Etude melody {melody.pk}")
    response = HttpResponse(text, content_type="application/vnd.recordare.musicxml+xml")
    response["Content-Disposition"] = f'attachment; filename="etude-melody-{melody.pk}.musicxml"'
    return response


@login_required
@require_POST
def practise(request: HttpRequest, melody_id: int) -> HttpResponse:
    melody, _ = _own_melody(request, melody_id)
    lesson = services.practise_melody(request.user, melody)
    return redirect("practice:lesson", lesson_id=lesson.pk)


def _own_melody(request: HttpRequest, melody_id: int) -> tuple[Melody, TrackParams]:
    melody = selectors.melody_for(request.user, melody_id)
    if melody is None:
        raise Http404("No such melody.")
    return melody, TrackParams(**melody.episode.session.params_dict())  # type: ignore[arg-type]


def _body(request: HttpRequest) -> dict[str, Any]:
    """A JSON object body, or the form fields; raises ``ComposerError`` for anything else."""
    if len(request.body) > MAX_BODY_BYTES:
        raise services.ComposerError("request_too_large", f"Requests are limited to {MAX_BODY_BYTES} bytes.")
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise services.ComposerError("bad_request", "Send a JSON object.") from None
        if not isinstance(data, dict):
            raise services.ComposerError("bad_request", "Send a JSON object.")
        return data
    return request.POST.dict()


def _error(exc: services.ComposerError) -> JsonResponse:
    status = STATUS_BY_CODE.get(exc.code, 413 if exc.code == "request_too_large" else 400)
    return JsonResponse({"error": exc.code, "message": str(exc)}, status=status)
