"""Reads for the tutor: a learner's exercise catalogue, decisions and state, and who may see them."""

from __future__ import annotations

from django.db.models import QuerySet

from inference.tutor.exercises import Catalogue, Exercise, demand_from_notes
from webapp.accounts.models import User
from webapp.courses.models import Course, Lesson
from webapp.courses.selectors import courses_for
from webapp.practice.models import Take
from webapp.tutor.models import Decision, LearnerState, PolicyVersion

PASSAGE_MEASURES = 4
"""Passages are this many bars long."""
MAX_PASSAGES_PER_LESSON = 4
MIN_MEASURES_FOR_PASSAGES = 2 * PASSAGE_MEASURES


def catalogue_for(learner: User, course: Course) -> Catalogue:
    """The course's lessons in order, each preceded by its passages, then the learner's composed melodies."""
    exercises: list[Exercise] = []
    lessons = course.lessons.select_related("piece").order_by("order", "id")
    for lesson in lessons:
        exercises.extend(_passages(lesson))
        exercises.append(_exercise(lesson, "lesson", lesson.piece.notes, None, None))
    for lesson in composed_melody_lessons(learner).exclude(course=course):
        exercises.append(_exercise(lesson, "melody", lesson.piece.notes, None, None))
    if not exercises:
        raise LookupError(f"course {course.pk} has no lessons to practise")
    return Catalogue(exercises)


def composed_melody_lessons(learner: User) -> QuerySet[Lesson]:
    """Lessons the composer made from the learner's own melodies ("practise this")."""
    return (
        Lesson.objects.filter(composer_melodies__episode__session__user=learner)
        .select_related("piece", "course")
        .distinct()
        .order_by("id")
    )


def _passages(lesson: Lesson) -> list[Exercise]:
    piece = lesson.piece
    first, last = piece.first_measure, piece.measure_count
    if last - first + 1 < MIN_MEASURES_FOR_PASSAGES:
        return []
    out = []
    for start in range(first, last + 1, PASSAGE_MEASURES)[:MAX_PASSAGES_PER_LESSON]:
        end = min(last, start + PASSAGE_MEASURES - 1)
        notes = [n for n in piece.notes if start <= int(n["measure"]) <= end]
        if notes:
            out.append(_exercise(lesson, "passage", notes, start, end))
    return out


def _exercise(lesson: Lesson, kind: str, notes: list[dict], start: int | None, end: int | None) -> Exercise:
    key = f"lesson:{lesson.pk}" if start is None else f"passage:{lesson.pk}:{start}-{end}"
    title = lesson.title if start is None else f"{lesson.title}, bars {start}–{end}"
    return Exercise(
        key=key,
        kind=kind,
        title=title[:200],
        demand=demand_from_notes(notes, lesson.target_bpm),
        note_count=len(notes),
        meta={"lesson_id": lesson.pk, "from_measure": start, "to_measure": end},
    )


def exercise_key_for_take(catalogue: Catalogue, take: Take, preferred: str | None = None) -> str | None:
    """The catalogue exercise a take practised: ``preferred`` (the recommendation it answers) when the take
    fits it, else the passage starting at its bar, else the whole lesson.

    A take from bar 1 fits both the whole lesson and its first passage; only the recommendation can tell.
    """
    if preferred is not None and preferred in catalogue.keys:
        meta = catalogue.exercises[catalogue.index(preferred)].meta
        starts_at = meta["from_measure"] if meta["from_measure"] is not None else take.lesson.piece.first_measure
        if meta["lesson_id"] == take.lesson_id and starts_at == take.from_measure:
            return preferred
    for exercise in catalogue.exercises:
        meta = exercise.meta
        if meta["lesson_id"] == take.lesson_id and meta["from_measure"] == take.from_measure:
            return exercise.key
    whole = f"lesson:{take.lesson_id}"
    return whole if whole in catalogue.keys else None


def open_decision(learner: User, course: Course) -> Decision | None:
    """The latest recommendation in this course that no take has answered yet."""
    return (
        Decision.objects.filter(learner=learner, course=course, take__isnull=True, outcome__isnull=True)
        .select_related("lesson", "policy_version")
        .first()
    )


def decisions_visible_to(user: User) -> QuerySet[Decision]:
    """Learners see their own decisions; admins all (instructors review through the admin)."""
    decisions = Decision.objects.select_related("lesson", "course", "policy_version")
    return decisions if user.is_admin_role else decisions.filter(learner=user)


def state_of(learner: User, course: Course) -> LearnerState | None:
    return LearnerState.objects.filter(learner=learner, course=course).first()


def active_policy_version(name: str) -> PolicyVersion | None:
    return PolicyVersion.objects.filter(name=name, is_active=True).order_by("-version").first()


def can_use_course(user: User, course: Course) -> bool:
    return courses_for(user).filter(pk=course.pk).exists()


def takes_of(learner: User) -> QuerySet[Take]:
    return Take.objects.filter(user=learner)
