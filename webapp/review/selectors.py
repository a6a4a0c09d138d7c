"""Reads for the review pages: every learner's feedback data (takes, tutor decisions, ratings, voice-command
transcripts), filtered. Only admins review (``can_review``); the views check that before calling anything here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Avg, Count, F, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from webapp.accounts.models import User
from webapp.composer.models import Rating
from webapp.courses.models import Course, Enrollment
from webapp.practice.models import Take, TakeStatus, VoiceCommand
from webapp.tutor.models import MAX_RATING, MIN_RATING, Decision, TakeRating

MAX_TABLE_ROWS = 50
"""Most rows a dashboard table shows (the busiest or newest); the exports have them all."""
LATEST_TRANSCRIPTS = 20
"""Transcripts the dashboard lists (the newest); the export has them all."""
COMPOSER_RATINGS = range(1, 11)
UNKNOWN_INTENT = "unknown"
_FINISHED_ACCURACY = Avg("accuracy", filter=Q(status=TakeStatus.FINISHED))
"""Mean accuracy of finished takes only: an interrupted take counts the notes it never reached as missed."""


@dataclass(frozen=True)
class ReviewFilters:
    """What to review: records created from ``date_from`` to ``date_to`` (whole days, inclusive), in one
    course, by one learner; None means no limit."""

    date_from: date | None = None
    date_to: date | None = None
    course: Course | None = None
    learner: User | None = None

    def created(self, field: str = "created_at") -> Q:
        """The date range as a condition on ``field`` (an index-friendly range, not a cast to date)."""
        condition = Q()
        if self.date_from is not None:
            condition &= Q(**{f"{field}__gte": _start_of(self.date_from)})
        if self.date_to is not None:
            condition &= Q(**{f"{field}__lt": _start_of(self.date_to + timedelta(days=1))})
        return condition


def can_review(user: User) -> bool:
    return user.is_admin_role


# -- the filtered records ----------------------------------------------------------------------------------


def _filtered(records: QuerySet[Any], filters: ReviewFilters, *, course: Q, learner: str) -> QuerySet[Any]:
    """``records`` created within the filters' dates, narrowed by ``course`` (a Q for the chosen course) and by
    the ``learner`` field when those filters are set."""
    records = records.filter(filters.created())
    if filters.course is not None:
        records = records.filter(course)
    if filters.learner is not None:
        records = records.filter(**{learner: filters.learner})
    return records


def takes_for_review(filters: ReviewFilters) -> QuerySet[Take]:
    return _filtered(Take.objects.all(), filters, course=Q(lesson__course=filters.course), learner="user")


def decisions_for_review(filters: ReviewFilters) -> QuerySet[Decision]:
    return _filtered(Decision.objects.all(), filters, course=Q(course=filters.course), learner="learner")


def take_ratings_for_review(filters: ReviewFilters) -> QuerySet[TakeRating]:
    course = Q(take__lesson__course=filters.course)
    return _filtered(TakeRating.objects.all(), filters, course=course, learner="learner")


def composer_ratings_for_review(filters: ReviewFilters) -> QuerySet[Rating]:
    """Melody ratings. The composer belongs to no course: with a course chosen, those of its learners."""
    learners = Enrollment.objects.filter(course=filters.course).values("learner_id")
    course = Q(melody__episode__session__user_id__in=learners)
    return _filtered(Rating.objects.all(), filters, course=course, learner="melody__episode__session__user")


def voice_commands_for_review(filters: ReviewFilters) -> QuerySet[VoiceCommand]:
    course = Q(lesson__course=filters.course)
    return _filtered(VoiceCommand.objects.all(), filters, course=course, learner="user")


# -- the dashboard's sections ------------------------------------------------------------------------------


def take_statistics(filters: ReviewFilters) -> dict[str, Any]:
    takes = takes_for_review(filters)
    per_day = takes.values(day=TruncDate("created_at")).annotate(**_take_counts())
    per_lesson = takes.values(
        "lesson_id", lesson_title=F("lesson__title"), course_title=F("lesson__course__title")
    ).annotate(**_take_counts())
    per_course = takes.values(course_id=F("lesson__course_id"), course_title=F("lesson__course__title")).annotate(
        **_take_counts()
    )
    return {
        "totals": _with_minutes(takes.aggregate(**_take_counts())),
        "per_day": [_with_minutes(r) for r in per_day.order_by("-day")[:MAX_TABLE_ROWS]],
        "days": per_day.count(),
        "per_course": [_with_minutes(r) for r in per_course.order_by("-takes", "course_id")[:MAX_TABLE_ROWS]],
        "per_lesson": [_with_minutes(r) for r in per_lesson.order_by("-takes", "lesson_id")[:MAX_TABLE_ROWS]],
        "lessons": per_lesson.count(),
        "end_reasons": list(
            takes.values("end_reason").annotate(takes=Count("id")).order_by("-takes", "end_reason")[:MAX_TABLE_ROWS]
        ),
        "followers": list(
            takes.values("follower")
            .annotate(takes=Count("id"), mean_accuracy=_FINISHED_ACCURACY)
            .order_by("-takes", "follower")
        ),
    }


def tutor_statistics(filters: ReviewFilters) -> dict[str, Any]:
    decisions = decisions_for_review(filters)
    ratings = take_ratings_for_review(filters)
    per_policy = decisions.values(
        "policy_version_id",
        policy_name=F("policy_version__name"),
        policy_number=F("policy_version__version"),
        policy_source=F("policy_version__source"),
        is_active=F("policy_version__is_active"),
    ).annotate(**_decision_counts(), mean_probability=Avg("probability"))
    rating_counts = dict(ratings.order_by().values("rating").annotate(n=Count("id")).values_list("rating", "n"))
    return {
        "totals": decisions.aggregate(**_decision_counts()),
        "per_policy": list(per_policy.order_by("policy_name", "-policy_number")[:MAX_TABLE_ROWS]),
        "per_help": list(decisions.values("help").annotate(**_decision_counts()).order_by("-decisions", "help")),
        "ratings": ratings.aggregate(count=Count("id"), mean=Avg("rating")),
        "rating_distribution": _distribution(rating_counts, range(MIN_RATING, MAX_RATING + 1)),
    }


def composer_statistics(filters: ReviewFilters) -> dict[str, Any]:
    ratings = composer_ratings_for_review(filters)
    session = "melody__episode__session"
    per_session = ratings.values(
        session_id=F(f"{session}_id"),
        learner=F(f"{session}__user__username"),
        variant=F(f"{session}__variant"),
        scale=F(f"{session}__scale"),
        is_open=F(f"{session}__is_open"),
    ).annotate(ratings=Count("id"), mean=Avg("value"), last_at=Max("created_at"))
    per_learner = ratings.values(learner=F(f"{session}__user__username")).annotate(
        ratings=Count("id"), mean=Avg("value"), sessions=Count(f"{session}_id", distinct=True)
    )
    value_counts = dict(ratings.order_by().values("value").annotate(n=Count("id")).values_list("value", "n"))
    return {
        "totals": ratings.aggregate(
            count=Count("id"),
            mean=Avg("value"),
            reverted=Count("id", filter=Q(was_reverted=True)),
            sessions=Count(f"{session}_id", distinct=True),
            learners=Count(f"{session}__user_id", distinct=True),
        ),
        "distribution": _distribution(value_counts, COMPOSER_RATINGS),
        "per_session": list(per_session.order_by("-last_at", "-session_id")[:MAX_TABLE_ROWS]),
        "sessions": per_session.count(),
        "per_learner": list(per_learner.order_by("-ratings", "learner")[:MAX_TABLE_ROWS]),
        "learners": per_learner.count(),
    }


def transcript_statistics(filters: ReviewFilters) -> dict[str, Any]:
    """What learners said: how often each intent was heard, how often nothing was understood (and what)."""
    commands = voice_commands_for_review(filters)
    is_unknown = Q(intent=UNKNOWN_INTENT)
    latest = commands.order_by("-created_at", "-id").values(
        "id", "created_at", "source", "text", "intent", "slots", "confidence", "take_id",
        learner=F("user__username"), lesson_title=F("lesson__title"),
    )  # fmt: skip
    return {
        "totals": commands.aggregate(
            count=Count("id"),
            unknown=Count("id", filter=is_unknown),
            in_takes=Count("id", filter=Q(take__isnull=False)),
            learners=Count("user_id", distinct=True),
            mean_confidence=Avg("confidence"),
        ),
        "per_intent": list(
            commands.values("intent")
            .annotate(count=Count("id"), mean_confidence=Avg("confidence"))
            .order_by("-count", "intent")[:MAX_TABLE_ROWS]
        ),
        "per_source": list(
            commands.values("source").annotate(count=Count("id"), unknown=Count("id", filter=is_unknown))
            .order_by("-count", "source")
        ),
        "not_understood": list(
            commands.filter(is_unknown).exclude(text="").values("text").annotate(count=Count("id"))
            .order_by("-count", "text")[:MAX_TABLE_ROWS]
        ),
        "latest": list(latest[:LATEST_TRANSCRIPTS]),
    }


# -- rows for the exports, oldest first ----------------------------------------------------------------------


def take_rows(filters: ReviewFilters) -> QuerySet[Take, dict[str, Any]]:
    return (
        takes_for_review(filters)
        .order_by("created_at", "id")
        .values(
            "id", "created_at", "status", "end_reason", "follower", "tempo_factor", "from_measure", "to_measure",
            "assignment_id", "duration_s", "accuracy", "summary", "verdict_source", "lesson_id",
            learner=F("user__username"),
            course_id=F("lesson__course_id"),
            course_title=F("lesson__course__title"),
            lesson_title=F("lesson__title"),
            tutor_rating_value=F("tutor_rating__rating"),
        )
    )


def decision_rows(filters: ReviewFilters) -> QuerySet[Decision, dict[str, Any]]:
    return (
        decisions_for_review(filters)
        .order_by("created_at", "id")
        .values(
            "id", "created_at", "course_id", "lesson_id", "exercise_key", "exercise_title", "from_measure",
            "to_measure", "tempo_factor", "help", "probability", "reason", "is_overridden", "override", "take_id",
            "is_followed", "reward", "outcome_at", "outcome", "probabilities", "context",
            learner_username=F("learner__username"),
            course_title=F("course__title"),
            lesson_title=F("lesson__title"),
            policy_name=F("policy_version__name"),
            policy_number=F("policy_version__version"),
        )
    )


def composer_rating_rows(filters: ReviewFilters) -> QuerySet[Rating, dict[str, Any]]:
    session = "melody__episode__session"
    return (
        composer_ratings_for_review(filters)
        .order_by("created_at", "id")
        .values(
            "id", "created_at", "melody_id", "value", "reward", "was_reverted", "extras",
            learner=F(f"{session}__user__username"),
            session_id=F(f"{session}_id"),
            variant=F(f"{session}__variant"),
            scale=F(f"{session}__scale"),
            base_note=F(f"{session}__base_note"),
            episode=F("melody__episode__number"),
            step=F("melody__step"),
            edit=F("melody__edit"),
        )
    )


def transcript_rows(filters: ReviewFilters) -> QuerySet[VoiceCommand, dict[str, Any]]:
    return (
        voice_commands_for_review(filters)
        .order_by("created_at", "id")
        .values(
            "id", "created_at", "lesson_id", "take_id", "source", "text", "intent", "slots", "confidence", "t",
            learner=F("user__username"),
            course_id=F("lesson__course_id"),
            course_title=F("lesson__course__title"),
            lesson_title=F("lesson__title"),
        )
    )  # fmt: skip


# -- helpers -----------------------------------------------------------------------------------------------

def _take_counts() -> dict[str, Any]:
    return {
        "takes": Count("id"),
        "finished": Count("id", filter=Q(status=TakeStatus.FINISHED)),
        "interrupted": Count("id", filter=Q(status=TakeStatus.INTERRUPTED)),
        "mean_accuracy": _FINISHED_ACCURACY,
        "seconds": Sum("duration_s"),
    }


def _decision_counts() -> dict[str, Any]:
    return {
        "decisions": Count("id"),
        "with_outcome": Count("id", filter=Q(outcome__isnull=False)),
        "followed": Count("id", filter=Q(is_followed=True)),
        "not_followed": Count("id", filter=Q(is_followed=False)),
        "overridden": Count("id", filter=Q(is_overridden=True)),
        "mean_reward": Avg("reward"),
    }


def _with_minutes(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "minutes": (row["seconds"] or 0.0) / 60.0}


def _distribution(counts: dict[int, int], values: range) -> list[dict[str, Any]]:
    """Every possible value with its count and share of all (zero-filled, so the table has no gaps)."""
    total = sum(counts.values())
    return [
        {"value": v, "count": counts.get(v, 0), "share": counts.get(v, 0) / total if total else 0.0} for v in values
    ]


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
