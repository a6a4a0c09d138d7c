"""Reads of takes that depend on who asks."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from webapp.accounts.models import User
from webapp.practice.models import Take


def takes_visible_to(user: User) -> QuerySet[Take]:
    """Learners see their own takes; instructors also those in courses they teach; admins all."""
    takes = Take.objects.select_related("lesson", "lesson__course", "user")
    if user.is_admin_role:
        return takes
    if user.is_instructor:
        return takes.filter(Q(user=user) | Q(lesson__course__instructor=user))
    return takes.filter(user=user)


def history_for(user: User) -> QuerySet[Take]:
    return Take.objects.filter(user=user).select_related("lesson", "lesson__course").order_by("-created_at")
