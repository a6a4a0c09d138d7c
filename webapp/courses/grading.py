"""Grades: each learner's best take of each assignment, a course's progress table and its CSV export.

A take counts for an assignment when it was made for it, finished (stopped by the learner or at the end of the
excerpt, not cut off) and played at the assignment's tempo or faster (within ``TEMPO_SLACK``). Its score is the
share of the excerpt's score notes judged correct; an excerpt note the take has no verdict for (the learner
started later, or stopped before it) counts as missed. The grade is the best counted score; it is late when
that take was made after the due date.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F, QuerySet

from webapp.accounts.models import User
from webapp.courses.models import Assignment, Course
from webapp.spreadsheets import defuse

TEMPO_SLACK = 0.03
"""A take within 3 % below the assignment's tempo still counts (the slider sets whole percents of the lesson's
tempo, and the "-" / "+" keys move it 5 % at a time)."""

NOT_STARTED, ATTEMPTED, PASSED = "not started", "attempted", "passed"


@dataclass(frozen=True)
class Grade:
    """One learner's standing on one assignment."""

    assignment: Assignment
    score: float | None
    """Best counted take's share of the excerpt played correctly; None when no take counts yet."""
    takes: int
    """Takes made for the assignment (counted or not)."""
    last_at: datetime | None
    is_late: bool
    best_take_id: int | None = None

    @property
    def status(self) -> str:
        if self.score is not None and self.score >= self.assignment.pass_mark:
            return PASSED
        return ATTEMPTED if self.takes else NOT_STARTED

    @property
    def percent(self) -> int | None:
        return None if self.score is None else round(100 * self.score)


@dataclass(frozen=True)
class LearnerProgress:
    """A row of the instructor's progress table."""

    learner: User
    grades: list[Grade]
    minutes_practised: float
    takes: int
    last_practised: datetime | None


def excerpt_note_ids(assignment: Assignment) -> set[str]:
    return assignment.lesson.piece.note_ids_between(assignment.first_bar, assignment.last_bar)


def take_counts(take: Any, assignment: Assignment) -> bool:
    """Whether ``take`` (made for ``assignment``) counts towards its grade."""
    from webapp.practice.models import TakeStatus

    return take.status == TakeStatus.FINISHED and take.played_bpm >= assignment.target_bpm * (1 - TEMPO_SLACK)


def grades_for(learners: Iterable[User], assignments: list[Assignment]) -> dict[int, list[Grade]]:
    """Every learner's grade on every assignment (by learner id, in the order of ``assignments``)."""
    from webapp.practice.models import NoteResult, Take
    from webapp.practice.selectors import with_lesson

    learner_ids = [u.pk for u in learners]
    made = Take.objects.filter(assignment__in=assignments, user_id__in=learner_ids)
    takes = list(with_lesson(made).order_by("created_at"))
    by_id = {a.pk: a for a in assignments}
    counted = [t.pk for t in takes if take_counts(t, by_id[t.assignment_id])]
    correct: dict[int, set[str]] = defaultdict(set)
    for take_id, note_id in NoteResult.objects.filter(take_id__in=counted, result="correct").values_list(
        "take_id", "note_id"
    ):
        correct[take_id].add(note_id)
    by_pair: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for take in takes:
        by_pair[(take.user_id, take.assignment_id)].append(take)
    excerpts = {a.pk: excerpt_note_ids(a) for a in assignments}
    counted_ids = set(counted)
    return {
        learner_id: [_grade(a, by_pair[(learner_id, a.pk)], excerpts[a.pk], correct, counted_ids) for a in assignments]
        for learner_id in learner_ids
    }


def course_progress(course: Course) -> list[LearnerProgress]:
    """One row per enrolled learner, alphabetical, with their grades and how much they practised."""
    from django.db.models import Count, Max, Sum

    from webapp.practice.models import Take

    learners = list(User.objects.filter(enrollments__course=course).order_by("username"))
    assignments = list(assignments_of(course))
    grades = grades_for(learners, assignments)
    totals = {
        row["user_id"]: row
        for row in Take.objects.filter(lesson__course=course, user__in=learners)
        .values("user_id")
        .annotate(n=Count("id"), seconds=Sum("duration_s"), last=Max("created_at"))
    }
    return [
        LearnerProgress(
            learner=u,
            grades=grades[u.pk],
            minutes_practised=(totals.get(u.pk, {}).get("seconds") or 0.0) / 60,
            takes=totals.get(u.pk, {}).get("n", 0),
            last_practised=totals.get(u.pk, {}).get("last"),
        )
        for u in learners
    ]


def open_assignments(learner: User) -> list[Grade]:
    """The learner's assignments not yet passed, in the courses they joined, soonest due first."""
    mine = Assignment.objects.filter(course__enrollments__learner=learner).select_related("course")
    assignments = list(_with_notes(mine).order_by(F("due_at").asc(nulls_last=True), "id"))
    grades = grades_for([learner], assignments)[learner.pk]
    return [g for g in grades if g.status != PASSED]


def assignments_of(course: Course) -> QuerySet[Assignment]:
    return _with_notes(course.assignments.all())


def _with_notes(assignments: QuerySet[Assignment]) -> QuerySet[Assignment]:
    """``assignments`` with their lesson and piece (whose notes grading reads) but not the piece's engraving."""
    return assignments.select_related("lesson__piece").defer("lesson__piece__svg", "lesson__piece__musicxml")


def grades_csv(course: Course) -> Iterator[str]:
    """The course's grade book as CSV lines: a learner per row, score and status per assignment."""
    assignments = list(assignments_of(course))
    header = ["learner", "name", "email", "takes", "minutes practised"]
    for a in assignments:
        header += [f"{a.title} (%)", f"{a.title} status"]
    yield _csv_line(header)
    for row in course_progress(course):
        name = row.learner.get_full_name()
        cells: list[Any] = [row.learner.username, name, row.learner.email, row.takes, f"{row.minutes_practised:.1f}"]
        for grade in row.grades:
            status = grade.status + (" (late)" if grade.is_late else "")
            cells += ["" if grade.percent is None else grade.percent, status]
        yield _csv_line(cells)


def _grade(
    assignment: Assignment, takes: list[Any], excerpt: set[str], correct: dict[int, set[str]], counted: set[int]
) -> Grade:
    scored = [(len(correct[t.pk] & excerpt) / len(excerpt), t) for t in takes if t.pk in counted and excerpt]
    best = max(scored, key=lambda pair: (pair[0], -pair[1].created_at.timestamp()), default=None)
    due = assignment.due_at
    return Grade(
        assignment=assignment,
        score=best[0] if best else None,
        takes=len(takes),
        last_at=takes[-1].created_at if takes else None,
        is_late=bool(best and due and best[1].created_at > due),
        best_take_id=best[1].pk if best else None,
    )


def _csv_line(cells: list[Any]) -> str:
    """One CSV line, formula-like text cells defused."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([defuse(c) for c in cells])
    return buffer.getvalue()
