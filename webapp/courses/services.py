"""State changes for courses, pieces, lessons and assignments."""

from __future__ import annotations

from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction

from inference.engraving import render_svg_pages
from inference.scores import ParsedScore, load_score
from webapp.accounts.models import User
from webapp.courses.models import Assignment, Course, Enrollment, Lesson, Piece


class JoinError(ValueError):
    """A class code that does not admit this user; the message is shown to them."""


def create_course(instructor: User, title: str, description: str = "") -> Course:
    if not instructor.is_instructor:
        raise PermissionError("Only instructors can create courses.")
    return Course.objects.create(instructor=instructor, title=title, description=description)


def join_course(learner: User, class_code: str) -> Course:
    """Enrol ``learner`` in the course with ``class_code`` (case and spaces ignored); joining twice is fine."""
    code = "".join(class_code.split()).upper()
    course = Course.objects.filter(class_code=code).first()
    if course is None:
        raise JoinError("No course has that class code. Check it with your instructor.")
    if course.instructor_id == learner.pk:
        raise JoinError("You teach this course already.")
    Enrollment.objects.get_or_create(course=course, learner=learner)
    return course


def update_course(course: Course, *, title: str, description: str) -> Course:
    course.title, course.description = title, description
    course.save(update_fields=["title", "description"])
    return course


def renew_class_code(course: Course) -> str:
    """A fresh class code (the old one stops working; learners already enrolled stay)."""
    from webapp.courses.models import new_class_code

    course.class_code = new_class_code()
    course.save(update_fields=["class_code"])
    return course.class_code


def leave_course(learner: User, course: Course) -> bool:
    """End ``learner``'s enrolment (they leave, or their instructor removes them); their takes are kept."""
    deleted, _ = Enrollment.objects.filter(course=course, learner=learner).delete()
    return bool(deleted)


def create_piece(owner: User, parsed: ParsedScore, *, source_name: str, source_bytes: bytes | None) -> Piece:
    """Engrave ``parsed`` and store it with its original file."""
    pages = render_svg_pages(parsed.musicxml)
    svg = "".join(f'<div class="score-page" data-page="{i + 1}">{page}</div>' for i, page in enumerate(pages))
    piece = Piece(
        title=parsed.title[:200],
        composer=parsed.composer[:200],
        owner=owner,
        source_name=source_name[:255],
        format=parsed.format,
        musicxml=parsed.musicxml,
        svg=svg,
        notes=[n.to_dict() for n in parsed.notes],
        tempo_bpm=parsed.tempo_bpm,
        measure_count=parsed.measure_count,
        note_count=len(parsed.notes),
    )
    if source_bytes is not None:
        piece.source_file.save(source_name, ContentFile(source_bytes), save=False)
    piece.save()
    return piece


def upload_piece(owner: User, data: bytes, filename: str) -> Piece:
    """Parse an uploaded score (raises ``inference.scores.ScoreError`` with a readable message)."""
    parsed = load_score(data, filename)
    return create_piece(owner, parsed, source_name=filename, source_bytes=data)


def check_lesson_settings(follower: str, tolerances: dict[str, float] | None) -> None:
    """``ValueError`` naming the problem for an unknown follower or an out-of-range tolerance."""
    from inference.feedback import Tolerances
    from inference.following import FOLLOWERS

    if follower and follower not in FOLLOWERS:
        raise ValueError(f"unknown follower {follower!r}; choose one of {sorted(FOLLOWERS)}")
    Tolerances.from_dict(tolerances)


@transaction.atomic
def create_lesson(
    course: Course,
    piece: Piece,
    *,
    title: str = "",
    instructions: str = "",
    tempo_bpm: float | None = None,
    follower: str = "",
    tolerances: dict[str, float] | None = None,
) -> Lesson:
    """A new last lesson of ``course``; ``ValueError`` for an unknown follower or out-of-range tolerances."""
    check_lesson_settings(follower, tolerances)
    order = course.lessons.count() + 1
    return Lesson.objects.create(
        course=course,
        piece=piece,
        title=title or piece.title,
        instructions=instructions,
        tempo_bpm=tempo_bpm,
        follower=follower,
        tolerances=dict(tolerances or {}),
        order=order,
    )


@transaction.atomic
def update_lesson(
    lesson: Lesson,
    *,
    title: str,
    instructions: str,
    tempo_bpm: float | None,
    follower: str,
    tolerances: dict[str, float],
) -> Lesson:
    """Change a lesson's settings (not its score); takes already made keep the tolerances they were judged by."""
    check_lesson_settings(follower, tolerances)
    lesson.title = title or lesson.piece.title
    lesson.instructions = instructions
    lesson.tempo_bpm = tempo_bpm
    lesson.follower = follower
    lesson.tolerances = dict(tolerances)
    lesson.save(update_fields=["title", "instructions", "tempo_bpm", "follower", "tolerances"])
    return lesson


def check_assignment_settings(
    course: Course,
    lesson: Lesson,
    *,
    from_measure: int | None,
    to_measure: int | None,
    pass_mark: float,
    tolerances: dict[str, float] | None,
) -> None:
    """``ValueError`` naming the problem: a lesson of another course, bars outside the piece or in the wrong
    order, a pass mark outside 0-1, out-of-range tolerances."""
    from inference.feedback import Tolerances

    if lesson.course_id != course.pk:
        raise ValueError("choose a lesson of this course")
    first, last = lesson.piece.first_measure, lesson.piece.measure_count
    for bar in (from_measure, to_measure):
        if bar is not None and not first <= bar <= last:
            raise ValueError(f"bars must be between {first} and {last} for {lesson.title}")
    if from_measure is not None and to_measure is not None and to_measure < from_measure:
        raise ValueError("the last bar comes before the first")
    if not 0.0 < pass_mark <= 1.0:
        raise ValueError("the pass mark must be between 1 % and 100 %")
    Tolerances.from_dict(tolerances)


@transaction.atomic
def save_assignment(
    assignment: Assignment | None,
    course: Course,
    lesson: Lesson,
    *,
    title: str,
    instructions: str = "",
    from_measure: int | None = None,
    to_measure: int | None = None,
    tempo_bpm: float | None = None,
    due_at: datetime | None = None,
    pass_mark: float = 0.8,
    tolerances: dict[str, float] | None = None,
) -> Assignment:
    """Create (``assignment`` None) or change an assignment; ``ValueError`` as ``check_assignment_settings``.

    Takes already made for a changed assignment are graded by its new excerpt, tempo and pass mark (their
    verdicts stay as they were judged).
    """
    check_assignment_settings(
        course, lesson, from_measure=from_measure, to_measure=to_measure, pass_mark=pass_mark, tolerances=tolerances
    )
    assignment = assignment or Assignment(course=course)
    assignment.lesson = lesson
    assignment.from_measure = from_measure
    assignment.to_measure = to_measure
    assignment.title = title or f"{lesson.title}, {assignment.excerpt_label()}"
    assignment.instructions = instructions
    assignment.tempo_bpm = tempo_bpm
    assignment.due_at = due_at
    assignment.pass_mark = pass_mark
    assignment.tolerances = dict(tolerances or {})
    assignment.save()
    return assignment

