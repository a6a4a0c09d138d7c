"""Reads of takes that depend on who asks."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from webapp.accounts.models import User
from webapp.practice.models import Take


def takes_visible_to(user: User) -> QuerySet[Take]:
    """Learners see their own takes; instructors also those in courses they teach; admins all."""
    takes = with_lesson(Take.objects.select_related("user"))
    if user.is_admin_role:
        return takes
    if user.is_instructor:
        return takes.filter(Q(user=user) | Q(lesson__course__instructor=user))
    return takes.filter(user=user)


def history_for(user: User) -> QuerySet[Take]:
    return with_lesson(Take.objects.filter(user=user)).order_by("-created_at")


def with_lesson(takes: QuerySet[Take]) -> QuerySet[Take]:
    """``takes`` with their lesson, course and piece in the same query, without the piece's large fields."""
    return takes.select_related("lesson", "lesson__course", "lesson__piece").defer(
        "lesson__piece__svg", "lesson__piece__musicxml", "lesson__piece__notes"
    )
