"""Reads for the composer page: only ever the requesting learner's own sessions and melodies."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count
from django.urls import reverse

from inference.composer.export import describe_params
from inference.composer.track import NOTE_OPS, OP_NAMES, TrackParams
from webapp.accounts.models import User
from webapp.composer.models import ComposerSession, Melody, Rating

HISTORY_LIMIT = 500
"""Most ratings the progress plot shows (the newest)."""


def open_session(user: User) -> ComposerSession | None:
    return ComposerSession.objects.filter(user=user, is_open=True).first()


def melody_for(user: User, melody_id: int) -> Melody | None:
    """The melody if it belongs to ``user``; None for anyone else's (callers answer 404)."""
    return Melody.objects.select_related("episode__session").filter(pk=melody_id, episode__session__user=user).first()


def composer_state(user: User) -> dict[str, Any]:
    """Everything the page needs to show where the learner stands: session, melody to rate, progress."""
    session = open_session(user)
    if session is None:
        return {"session": None, "melody": None, "history": [], "episodes": []}
    melody = Melody.objects.filter(episode__session=session).select_related("episode").order_by("-id").first()
    return {
        "session": _session_json(session),
        "melody": _melody_json(melody) if melody else None,
        "history": rating_history(session),
        "episodes": episode_means(session),
    }


def rating_history(session: ComposerSession) -> list[dict[str, Any]]:
    ratings = (
        Rating.objects.filter(melody__episode__session=session)
        .select_related("melody__episode")
        .order_by("-id")[:HISTORY_LIMIT]
    )
    return [
        {"melody_id": r.melody_id, "episode": r.melody.episode.number, "step": r.melody.step, "rating": r.value}
        for r in reversed(list(ratings))
    ]


def episode_means(session: ComposerSession) -> list[dict[str, Any]]:
    rows = (
        Rating.objects.filter(melody__episode__session=session)
        .values("melody__episode__number")
        .annotate(mean=Avg("value"), count=Count("id"))
        .order_by("melody__episode__number")
    )
    return [
        {"episode": r["melody__episode__number"], "mean": round(float(r["mean"]), 2), "count": r["count"]} for r in rows
    ]


def _session_json(session: ComposerSession) -> dict[str, Any]:
    params = TrackParams(**session.params_dict())  # type: ignore[arg-type]
    return {
        "id": session.pk,
        "variant": session.variant,
        "params": params.to_dict(),
        "title": describe_params(params),
        "ratings_per_episode": session.ratings_per_episode,
    }


def _melody_json(melody: Melody) -> dict[str, Any]:
    edit = melody.edit or []
    return {
        "id": melody.pk,
        "episode": melody.episode.number,
        "step": melody.step,
        "track": melody.track,
        "svg": melody.svg,
        "notes": melody.notes,
        "edit": [OP_NAMES[op] + (f" (note {i + 1})" if op in NOTE_OPS else "") for op, i in edit],
        "rate_url": reverse("composer:rate", args=[melody.pk]),
        "midi_url": reverse("composer:midi", args=[melody.pk]),
        "musicxml_url": reverse("composer:musicxml", args=[melody.pk]),
        "practise_url": reverse("composer:practise", args=[melody.pk]),
    }
