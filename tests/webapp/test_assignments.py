"""Instructors set assignments (bars of a lesson, a tempo, a due date, a pass mark); learners practise them;
the instructor sees every learner's best take and exports the grade book."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse
from django.utils import timezone

from tests.webapp.channels_helpers import connect, drain, performance_pcm, start, stream
from tests.webapp.conftest import PASSWORD, client_for
from webapp.accounts.models import Role
from webapp.accounts.services import create_user
from webapp.courses import grading
from webapp.courses.models import Assignment, Enrollment
from webapp.courses.services import create_course, save_assignment
from webapp.practice.consumers import PracticeConsumer
from webapp.practice.limits import FrameLimits
from webapp.practice.models import Take, TakeStatus
from webapp.practice.services import create_take, finish_take


@pytest.fixture
def assignment(course, lesson) -> Assignment:  # type: ignore[no-untyped-def]
    return save_assignment(None, course, lesson, title="Opening", from_measure=1, to_measure=4, pass_mark=0.8)


def _excerpt(assignment: Assignment) -> list[str]:
    return sorted(grading.excerpt_note_ids(assignment))


def _finished_take(learner, assignment, correct: list[str], *, tempo_factor=1.0, status=TakeStatus.FINISHED):  # type: ignore[no-untyped-def]
    """A take of ``assignment`` whose verdicts say ``correct`` notes were right and every other note missed."""
    take = create_take(learner, assignment.lesson, tempo_factor=tempo_factor, assignment=assignment)
    verdicts = [
        {"note_id": n["note_id"], "result": "correct" if n["note_id"] in correct else "missed"}
        for n in assignment.lesson.piece.notes
    ]
    finish_take(
        take, verdicts=verdicts, summary={}, duration_s=12.0, pcm16=b"", sample_rate=16000, reason="stopped",
        is_complete=status == TakeStatus.FINISHED,
    )
    return take


# -- setting assignments -------------------------------------------------------------------------------------


def test_an_instructor_sets_an_assignment_and_the_learner_sees_it(instructor, learner, course, lesson) -> None:  # type: ignore[no-untyped-def]
    url = reverse("courses:assignment_create", args=[course.pk])
    fields = {"lesson": lesson.pk, "from_measure": "2", "to_measure": "5", "tempo_bpm": "90",
              "due_at": "2030-01-31T18:00", "pass_percent": "75", "cents_tolerance": "30"}
    response = client_for(instructor).post(url, fields)
    assert response.status_code == 302
    assignment = Assignment.objects.get(course=course)
    assert (assignment.title, assignment.first_bar, assignment.last_bar) == ("Lullaby, bars 2–5", 2, 5)
    assert (assignment.target_bpm, assignment.pass_mark) == (90.0, 0.75)
    assert assignment.judged_with == {"cents_tolerance": 30.0}
    page = " ".join(client_for(learner).get(reverse("courses:detail", args=[course.pk])).content.decode().split())
    assert "Lullaby, bars 2–5" in page and "due Jan 31, 18:00" in page and "not started" in page
    assert f"?assignment={assignment.pk}" in page and "Edit" not in page


@pytest.mark.parametrize(
    "bad",
    [{"from_measure": "99"}, {"from_measure": "5", "to_measure": "3"}, {"pass_percent": "0"}, {"tempo_bpm": "5"},
     {"cents_tolerance": "1"}, {"lesson": "999999"}],
)
def test_bad_assignments_are_refused_and_nothing_is_saved(instructor, course, lesson, bad) -> None:  # type: ignore[no-untyped-def]
    url = reverse("courses:assignment_create", args=[course.pk])
    response = client_for(instructor).post(url, {"lesson": lesson.pk, "pass_percent": "80", **bad})
    assert response.status_code == 400
    assert b"field-error" in response.content or b"form-errors" in response.content
    assert not Assignment.objects.exists()


def test_a_lesson_of_another_course_cannot_be_assigned(instructor, course, lesson) -> None:  # type: ignore[no-untyped-def]
    other = create_course(instructor, "Another course", "")
    response = client_for(instructor).post(
        reverse("courses:assignment_create", args=[other.pk]), {"lesson": lesson.pk, "pass_percent": "80"}
    )
    assert response.status_code == 400
    with pytest.raises(ValueError, match="lesson of this course"):
        save_assignment(None, other, lesson, title="x")
    assert not Assignment.objects.exists()


def test_only_the_instructor_sets_edits_removes_or_grades(learner, outsider, course, assignment) -> None:  # type: ignore[no-untyped-def]
    urls = [
        reverse("courses:assignment_create", args=[course.pk]),
        reverse("courses:assignment_edit", args=[course.pk, assignment.pk]),
        reverse("courses:progress", args=[course.pk]),
        reverse("courses:grades_export", args=[course.pk]),
    ]
    for url in urls:
        assert client_for(learner).get(url).status_code == 403
        assert client_for(outsider).get(url).status_code == 404  # not even told the course exists
    delete = reverse("courses:assignment_delete", args=[course.pk, assignment.pk])
    assert client_for(learner).post(delete).status_code == 403
    assert Assignment.objects.filter(pk=assignment.pk).exists()


def test_editing_regrades_and_removing_keeps_the_takes(instructor, learner, course, assignment) -> None:  # type: ignore[no-untyped-def]
    excerpt = _excerpt(assignment)
    take = _finished_take(learner, assignment, excerpt[: len(excerpt) // 2])
    assert grading.grades_for([learner], [assignment])[learner.pk][0].status == grading.ATTEMPTED
    edit = reverse("courses:assignment_edit", args=[course.pk, assignment.pk])
    form = client_for(instructor).get(edit).content.decode()
    assert 'value="Opening"' in form and 'value="80"' in form
    response = client_for(instructor).post(edit, {"lesson": assignment.lesson_id, "title": "Opening",
                                                  "from_measure": "1", "to_measure": "4", "pass_percent": "40"})
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert grading.grades_for([learner], [assignment])[learner.pk][0].status == grading.PASSED
    delete = reverse("courses:assignment_delete", args=[course.pk, assignment.pk])
    assert client_for(instructor).post(delete).status_code == 302
    take.refresh_from_db()
    assert take.assignment is None and not Assignment.objects.exists()


# -- takes of an assignment ----------------------------------------------------------------------------------


def test_a_take_of_an_assignment_starts_at_its_bar_with_its_tolerances(learner, lesson, assignment) -> None:  # type: ignore[no-untyped-def]
    lesson.tolerances = {"a4_hz": 442.0, "cents_tolerance": 40.0}
    lesson.save()
    assignment.from_measure, assignment.tolerances = 3, {"cents_tolerance": 20.0}
    assignment.save()
    response = client_for(learner).post(
        reverse("practice:take_create", args=[lesson.pk]), json.dumps({"assignment_id": assignment.pk}),
        content_type="application/json",
    )
    assert response.status_code == 201
    take = Take.objects.get(pk=response.json()["take_id"])
    assert (take.assignment, take.from_measure, take.to_measure) == (assignment, 3, 4)
    assert (take.tolerances["a4_hz"], take.tolerances["cents_tolerance"]) == (442.0, 20.0)


@pytest.mark.parametrize("bad_id", ["x", 999999, [1]])
def test_a_take_for_an_unknown_assignment_is_refused(learner, lesson, assignment, bad_id) -> None:  # type: ignore[no-untyped-def]
    response = client_for(learner).post(
        reverse("practice:take_create", args=[lesson.pk]), json.dumps({"assignment_id": bad_id}),
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_options"
    assert not Take.objects.exists()


def test_the_lesson_page_sets_up_the_assignment(learner, lesson, assignment) -> None:  # type: ignore[no-untyped-def]
    url = reverse("practice:lesson", args=[lesson.pk])
    page = client_for(learner).get(f"{url}?assignment={assignment.pk}")
    assert page.status_code == 200
    text = " ".join(page.content.decode().split())
    assert "Assignment: Opening</strong> — bars 1–4" in text and "The take stops after bar 4" in text
    assert "Not started yet." in text
    _finished_take(learner, assignment, _excerpt(assignment))
    again = client_for(learner).get(f"{url}?assignment={assignment.pk}").content.decode()
    assert "Your best so far: 100 % (passed)." in again
    config = page.context["lesson_config"]["assignment"]
    assert config == {"id": assignment.pk, "title": "Opening", "from_measure": 1, "to_measure": 4,
                      "tempo_bpm": lesson.target_bpm}
    assert client_for(learner).get(f"{url}?assignment=nonsense").status_code == 404
    assert client_for(learner).get(url).context["lesson_config"]["assignment"] is None


# -- grades ----------------------------------------------------------------------------------------------------


def test_the_grade_is_the_best_counted_take_of_the_excerpt(learner, lesson, assignment) -> None:  # type: ignore[no-untyped-def]
    excerpt = _excerpt(assignment)
    outside = [n["note_id"] for n in lesson.piece.notes if n["note_id"] not in excerpt]
    assert excerpt and outside
    _finished_take(learner, assignment, excerpt[:1] + outside)  # notes after the excerpt do not count
    _finished_take(learner, assignment, excerpt, tempo_factor=0.5)  # too slow: does not count
    _finished_take(learner, assignment, excerpt, status=TakeStatus.INTERRUPTED)  # cut off: does not count
    best = _finished_take(learner, assignment, excerpt[:-1])
    grade = grading.grades_for([learner], [assignment])[learner.pk][0]
    assert grade.takes == 4
    assert grade.score == pytest.approx((len(excerpt) - 1) / len(excerpt))
    assert grade.status == (grading.PASSED if grade.score >= 0.8 else grading.ATTEMPTED)
    assert not grade.is_late
    assignment.due_at = best.created_at - timedelta(minutes=1)
    assignment.save()
    assert grading.grades_for([learner], [assignment])[learner.pk][0].is_late


def test_the_progress_page_and_grade_export(instructor, learner, course, lesson, assignment) -> None:  # type: ignore[no-untyped-def]
    idle = create_user("idle", PASSWORD, role=Role.LEARNER, email="idle@example.com")
    idle.first_name = "=HYPERLINK(\"http://evil\")"
    idle.save()
    Enrollment.objects.create(course=course, learner=idle)
    _finished_take(learner, assignment, _excerpt(assignment))
    page = client_for(instructor).get(reverse("courses:progress", args=[course.pk]))
    assert page.status_code == 200
    rows = {row.learner.username: row for row in page.context["rows"]}
    assert rows["pupil"].grades[0].percent == 100 and rows["pupil"].takes == 1
    best = reverse("practice:take", args=[rows["pupil"].grades[0].best_take_id])
    assert best in page.content.decode() and client_for(instructor).get(best).status_code == 200
    assert rows["idle"].grades[0].status == grading.NOT_STARTED and rows["idle"].takes == 0
    export = client_for(instructor).get(reverse("courses:grades_export", args=[course.pk]))
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert table[0] == ["learner", "name", "email", "takes", "minutes practised", "Opening (%)", "Opening status"]
    assert table[1] == ["idle", "'=HYPERLINK(\"http://evil\")", "idle@example.com", "0", "0.0", "", "not started"]
    assert table[2] == ["pupil", "", "pupil@example.com", "1", "0.2", "100", "passed"]


def test_the_learners_course_list_shows_what_is_left_to_do(learner, instructor, course, assignment) -> None:  # type: ignore[no-untyped-def]
    page = client_for(learner).get(reverse("courses:list"))
    assert [g.assignment for g in page.context["to_do"]] == [assignment] and b"Assignments to do" in page.content
    _finished_take(learner, assignment, _excerpt(assignment))  # passed: no longer to do
    assert client_for(learner).get(reverse("courses:list")).context["to_do"] == []
    assert client_for(instructor).get(reverse("courses:list")).context["to_do"] == []  # not enrolled


def test_a_course_without_learners_or_assignments_still_exports(instructor) -> None:  # type: ignore[no-untyped-def]
    course = create_course(instructor, "Empty", "")
    export = client_for(instructor).get(reverse("courses:grades_export", args=[course.pk]))
    assert b"".join(export.streaming_content).decode().splitlines() == [
        "learner,name,email,takes,minutes practised"
    ]
    progress = client_for(instructor).get(reverse("courses:progress", args=[course.pk]))
    assert b"No learners have joined yet" in progress.content


@pytest.mark.django_db(transaction=True)
async def test_a_played_assignment_is_graded_from_the_real_take(learner, lesson, assignment, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The learner plays the excerpt through the practice socket: well once, then a minor third sharp; the
    grade is the good take's, judged by the live engine (no verdicts written by the test)."""
    monkeypatch.setattr(PracticeConsumer, "limits", FrameLimits(burst_s=10_000, max_speed=10_000))
    notes = [n for n in lesson.piece.score_notes() if n.measure <= assignment.last_bar]
    for shift in (0, 3):
        take = await database_sync_to_async(create_take)(learner, lesson, assignment=assignment)
        communicator = await connect(take.pk, learner)
        await start(communicator, from_measure=assignment.first_bar)
        pcm, _ = performance_pcm([dataclasses.replace(n, midi=n.midi + shift) for n in notes])
        await stream(communicator, pcm)
        await communicator.send_json_to({"type": "stop"})
        summary = next(e for e in await drain(communicator) if e["type"] == "summary")
        assert summary["notes_total"] == len(grading.excerpt_note_ids(assignment))  # only the excerpt is judged
    grade = (await database_sync_to_async(grading.grades_for)([learner], [assignment]))[learner.pk][0]
    assert grade.takes == 2
    assert grade.score is not None and grade.score >= 0.8 and grade.status == grading.PASSED
    scores = await database_sync_to_async(_take_scores)(assignment)
    assert scores[1] <= scores[0] - 0.5


def _take_scores(assignment: Assignment) -> list[float]:
    excerpt = grading.excerpt_note_ids(assignment)
    return [
        len(set(t.note_results.filter(result="correct").values_list("note_id", flat=True)) & excerpt) / len(excerpt)
        for t in Take.objects.filter(assignment=assignment).order_by("created_at")
    ]


def test_the_demo_course_has_an_assignment(db) -> None:  # type: ignore[no-untyped-def]
    from webapp.courses.demo import ensure_demo_course

    course = ensure_demo_course()
    ensure_demo_course()  # again: still one
    assignment = course.assignments.get()
    assert assignment.due_at > timezone.now() and assignment.first_bar <= assignment.last_bar


def test_the_instructor_opens_one_learners_progress(instructor, learner, outsider, course, assignment) -> None:  # type: ignore[no-untyped-def]
    take = _finished_take(learner, assignment, _excerpt(assignment))
    url = reverse("courses:learner_progress", args=[course.pk, learner.pk])
    assert url in client_for(instructor).get(reverse("courses:progress", args=[course.pk])).content.decode()
    page = client_for(instructor).get(url)
    assert page.status_code == 200
    assert page.context["grades"][0].status == grading.PASSED and list(page.context["takes"]) == [take]
    assert reverse("practice:take", args=[take.pk]) in page.content.decode()
    assert client_for(learner).get(url).status_code == 403
    assert client_for(outsider).get(url).status_code == 404
    not_enrolled = reverse("courses:learner_progress", args=[course.pk, outsider.pk])
    assert client_for(instructor).get(not_enrolled).status_code == 404
