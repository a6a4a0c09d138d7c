"""Who may see what: every read of courses and lessons that depends on the user goes through here."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from webapp.accounts.models import User
from webapp.courses.models import Course, Lesson


def courses_for(user: User) -> QuerySet[Course]:
    """Admins see all courses, instructors the ones they teach, learners the ones they joined."""
    if user.is_admin_role:
        return Course.objects.all()
    if user.is_instructor:
        return Course.objects.filter(Q(instructor=user) | Q(enrollments__learner=user)).distinct()
    return Course.objects.filter(enrollments__learner=user)


def can_view_course(user: User, course: Course) -> bool:
    return courses_for(user).filter(pk=course.pk).exists()


def can_manage_course(user: User, course: Course) -> bool:
    return user.is_admin_role or (user.is_instructor and course.instructor_id == user.pk)


def lessons_for(user: User) -> QuerySet[Lesson]:
    return Lesson.objects.filter(course__in=courses_for(user)).select_related("course", "piece")


def can_practise(user: User, lesson: Lesson) -> bool:
    return lessons_for(user).filter(pk=lesson.pk).exists()
