"""State changes of the composer: start a session, rate a melody (the agent learns and proposes the next),
and turn a melody into a practice lesson. Each runs in one transaction with the learner's rows locked, so
two tabs rating at once cannot both use the same melody or lose a Q-table update."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inference.composer.agents import IMPROVED, ORIGINAL, EditAgent
from inference.composer.export import describe_params, track_to_score
from inference.composer.loop import (
    RatingError,
    Turn,
    check_rating,
    compound_rating,
    first_turn,
    rate_turn,
)
from inference.composer.qtable import QTable
from inference.composer.reward_model import Prior, RewardModel, fit_population_prior
from inference.composer.track import ParameterError, Track, TrackParams
from inference.engraving import render_svg_pages
from webapp.accounts.models import User
from webapp.composer.models import AgentState, ComposerSession, Episode, Melody, Rating, Variant
from webapp.courses.models import Course, Enrollment, Lesson
from webapp.courses.services import create_lesson, create_piece

AGENT_CONFIGS = {Variant.IMPROVED: IMPROVED, Variant.ORIGINAL: ORIGINAL}
POPULATION_LEARNERS = 200
"""A new reward model's prior is fitted on at most this many other learners, the most recently active."""
POPULATION_MIN_RATINGS = 12
"""Learners with fewer ratings than this (one episode) do not count towards the population prior."""
PERSONAL_COURSE_CODE = "cmp-{user_id}"
"""Lower-case on purpose: ``join_course`` upper-cases what people type, so nobody can join this course."""


class ComposerError(ValueError):
    """A request the composer refuses; ``code`` is for the client, the message for the learner."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_params(data: Mapping[str, Any]) -> tuple[TrackParams, str]:
    """Track parameters and agent variant from a form or JSON body; raises ``ComposerError`` when invalid."""
    values: dict[str, Any] = {}
    for name in ("base_note", "length", "tempo_bpm"):
        raw = data.get(name)
        if raw is None or raw == "":
            continue
        try:
            values[name] = int(str(raw).strip())
        except ValueError:
            raise ComposerError("invalid_params", f"{name} must be a whole number, got {raw!r}.") from None
    if data.get("scale"):
        values["scale"] = str(data["scale"])
    variant = str(data.get("variant") or Variant.IMPROVED)
    if variant not in Variant.values:
        raise ComposerError("invalid_params", f"Unknown agent {variant!r}; choose {' or '.join(Variant.values)}.")
    try:
        return TrackParams(**values), variant
    except ParameterError as exc:
        raise ComposerError("invalid_params", str(exc)) from exc


@transaction.atomic
def start_session(user: User, params: TrackParams, variant: str = Variant.IMPROVED) -> ComposerSession:
    """Close the learner's open sessions and start a new one with a first track drawn from the scale."""
    ComposerSession.objects.select_for_update().filter(user=user, is_open=True).update(is_open=False)
    refresh_prior(user, variant)
    turn = first_turn(params, _rng(user))
    session = ComposerSession.objects.create(
        user=user,
        variant=variant,
        ratings_per_episode=settings.ETUDE_COMPOSER_RATINGS_PER_EPISODE,
        turn=turn.to_dict(),
        **params.to_dict(),
    )
    episode = Episode.objects.create(session=session, number=0)
    _create_melody(episode, turn, params, parent=None)
    return session


@transaction.atomic
def rate_melody(user: User, melody_id: int, value: Any, extras: Mapping[str, Any] | None = None) -> Melody:
    """Record a rating of the melody awaiting one, let the agent learn, and create the next melody.

    Refused with ``ComposerError`` (and nothing changed) when the rating is not a whole number 1-10, the
    melody is not the learner's, or it is not the one awaiting a rating.
    """
    try:
        rating = check_rating(value)
        extra = {name: check_rating(v, name) for name, v in (extras or {}).items() if v not in (None, "")}
        effective = compound_rating(rating, extra)
    except RatingError as exc:
        raise ComposerError("invalid_rating", str(exc)) from exc
    melody = _awaiting_melody(user, melody_id)
    session = melody.episode.session
    params = TrackParams(**session.params_dict())  # type: ignore[arg-type]
    agent_row, _ = AgentState.objects.select_for_update().get_or_create(user=user, variant=session.variant)
    agent = _load_agent(agent_row, params)
    turn = Turn.from_dict(session.turn)
    next_turn, outcome = rate_turn(agent, turn, effective, _rng(user), ratings_per_episode=session.ratings_per_episode)
    Rating.objects.create(
        melody=melody, value=rating, extras=extra, reward=outcome.reward, was_reverted=outcome.reverted
    )
    agent_row.q_table = agent.table.to_json()
    agent_row.reward_model = agent.model.to_json() if agent.model is not None else {}
    agent_row.ratings_count += 1
    agent_row.save(update_fields=["q_table", "reward_model", "ratings_count", "updated_at"])
    episode = melody.episode
    if outcome.new_episode:
        Episode.objects.filter(pk=episode.pk).update(finished_at=timezone.now())
        episode = Episode.objects.create(session=session, number=next_turn.episode)
    parent = None if outcome.new_episode else _parent_melody(melody, outcome.reverted)
    session.turn = next_turn.to_dict()
    session.save(update_fields=["turn", "updated_at"])
    return _create_melody(episode, next_turn, params, parent=parent)


def _rng(user: User) -> np.random.Generator:
    """OS entropy, or with ``ETUDE_COMPOSER_SEED`` a stream fixed by the seed, the user and their melody count."""
    seed = settings.ETUDE_COMPOSER_SEED
    if seed < 0:
        return np.random.default_rng()
    count = Melody.objects.filter(episode__session__user=user).count()
    return np.random.default_rng([seed, user.pk, count])


def _awaiting_melody(user: User, melody_id: int) -> Melody:
    melody = (
        Melody.objects.select_for_update(of=("self",))
        .select_related("episode__session")
        .filter(pk=melody_id, episode__session__user=user)
        .first()
    )
    if melody is None:
        raise ComposerError("not_found", "No such melody among yours.")
    session = ComposerSession.objects.select_for_update().get(pk=melody.episode.session_id)
    latest = Melody.objects.filter(episode__session=session).order_by("-id").values_list("id", flat=True).first()
    if Rating.objects.filter(melody=melody).exists():
        raise ComposerError("already_rated", "You have rated this melody already.")
    if not session.is_open or latest != melody.pk:
        raise ComposerError("not_current", "Only the newest melody of your open session can be rated.")
    melody.episode.session = session
    return melody


def _parent_melody(rated: Melody, reverted: bool) -> Melody | None:
    """The melody the next edit starts from: the one just rated, or its parent when the edit was undone."""
    return rated.parent if reverted and rated.parent is not None else rated


def refresh_prior(user: User, variant: str) -> None:
    """Refit the prior of the learner's reward model on the population as it is now (keeping their own
    ratings), so that learners who came early also profit from those who came later."""
    if AGENT_CONFIGS[variant].planner != "model":
        return
    row, _ = AgentState.objects.select_for_update().get_or_create(user=user, variant=variant)
    model = _load_model(row.reward_model, variant, user, prior=population_prior(variant, exclude_user=user))
    row.reward_model = model.to_json()
    row.save(update_fields=["reward_model", "updated_at"])


def population_prior(variant: str, exclude_user: User) -> Prior:
    """The prior for a learner's reward model, fitted on the statistics of up to ``POPULATION_LEARNERS`` other
    learners who rated at least ``POPULATION_MIN_RATINGS`` melodies (the generic prior when there are none)."""
    rows = (
        AgentState.objects.filter(variant=variant, ratings_count__gte=POPULATION_MIN_RATINGS)
        .exclude(user=exclude_user)
        .order_by("-updated_at")
        .values_list("reward_model", flat=True)[:POPULATION_LEARNERS]
    )
    stats = []
    for data in rows:
        try:
            stats.append(RewardModel.from_json(data).stats)
        except ValueError:  # an unreadable model (older format) simply does not count
            continue
    return fit_population_prior(stats)


def _load_agent(row: AgentState, params: TrackParams) -> EditAgent:
    config = AGENT_CONFIGS[row.variant]
    model = _load_model(row.reward_model, row.variant, row.user) if config.planner == "model" else None
    return EditAgent(config, params, _load_table(row.q_table), model)


def _load_model(data: Any, variant: str, user: User, prior: Prior | None = None) -> RewardModel:
    """The learner's reward model, with ``prior`` in place of its own when given. A new one (or one in an
    unreadable older format) starts from ``prior`` or else the population's."""
    model = None
    if data:
        try:
            model = RewardModel.from_json(data)
        except ValueError:
            model = None
    if model is None:
        return RewardModel(prior or population_prior(variant, exclude_user=user), AGENT_CONFIGS[variant].model_forget)
    if prior is not None:
        model.prior = prior
        model.invalidate()
    return model


def _load_table(data: Any) -> QTable:
    limit = settings.ETUDE_COMPOSER_MAX_Q_ENTRIES
    if not data:
        return QTable(limit)
    try:
        return QTable.from_json(data, max_entries=limit)
    except ValueError:  # an unreadable table (older format) starts afresh rather than blocking the learner
        return QTable(limit)


def _create_melody(episode: Episode, turn: Turn, params: TrackParams, parent: Melody | None) -> Melody:
    parsed = track_to_score(turn.track, params, title=describe_params(params))
    pages = render_svg_pages(parsed.musicxml)
    return Melody.objects.create(
        episode=episode,
        step=turn.step,
        track=turn.track.to_dict(),
        edit=[list(a) for a in turn.edit] if turn.edit else None,
        parent=parent,
        svg="".join(pages),
        notes=[n.to_dict() for n in parsed.notes],
    )


@transaction.atomic
def practise_melody(user: User, melody: Melody) -> Lesson:
    """A lesson of the learner's personal practice course playing ``melody`` (made once, then reused)."""
    melody = Melody.objects.select_for_update(of=("self",)).select_related("episode__session").get(pk=melody.pk)
    session = melody.episode.session
    if session.user_id != user.pk:
        raise ComposerError("not_found", "No such melody among yours.")
    if melody.lesson_id is not None and Lesson.objects.filter(pk=melody.lesson_id).exists():
        return Lesson.objects.get(pk=melody.lesson_id)
    params = TrackParams(**session.params_dict())  # type: ignore[arg-type]
    title = f"Composed melody {melody.pk}: {describe_params(params)}"
    parsed = track_to_score(Track.from_dict(melody.track), params, title=title)
    piece = create_piece(user, parsed, source_name=f"composer-melody-{melody.pk}.musicxml", source_bytes=None)
    lesson = create_lesson(
        personal_course(user),
        piece,
        title=title[:200],
        instructions="A melody you shaped with the composer. Play or sing it; Etude follows you note by note.",
    )
    melody.lesson = lesson
    melody.save(update_fields=["lesson"])
    return lesson


def personal_course(user: User) -> Course:
    """The learner's own practice course (they are enrolled, and listed as its owner)."""
    course, _ = Course.objects.get_or_create(
        class_code=PERSONAL_COURSE_CODE.format(user_id=user.pk),
        defaults={
            "title": f"{user.username}'s composed melodies",
            "description": "Melodies from the composer, turned into practice lessons.",
            "instructor": user,
        },
    )
    Enrollment.objects.get_or_create(course=course, learner=user)
    return course
