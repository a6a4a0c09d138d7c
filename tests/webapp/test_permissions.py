"""Who may see and do what: roles, courses, lessons and takes."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.webapp.conftest import client_for
from webapp.courses.models import Course, Enrollment
from webapp.practice.models import Take
from webapp.practice.services import create_take

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["courses:list", "courses:create", "practice:history"])
def test_anonymous_users_are_sent_to_login(name: str) -> None:
    response = Client().get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_users_cannot_open_a_lesson(lesson) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(reverse("practice:lesson", args=[lesson.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_learner_sees_the_lesson_of_their_course(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    response = client_for(learner).get(reverse("practice:lesson", args=[lesson.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'class="score-page"' in content and 'id="score-notes"' in content
    assert all(f'id="{note["note_id"]}"' in content for note in lesson.piece.notes)


def test_learner_cannot_see_another_courses_lesson(outsider, lesson) -> None:  # type: ignore[no-untyped-def]
    client = client_for(outsider)
    assert client.get(reverse("practice:lesson", args=[lesson.pk])).status_code == 404
    assert client.get(reverse("courses:detail", args=[lesson.course.pk])).status_code == 404
    assert (
        client.post(
            reverse("practice:take_create", args=[lesson.pk]), "{}", content_type="application/json"
        ).status_code
        == 404
    )


def test_learner_cannot_see_another_learners_take(learner, outsider, lesson) -> None:  # type: ignore[no-untyped-def]
    take = create_take(learner, lesson)
    Enrollment.objects.create(course=lesson.course, learner=outsider)
    assert client_for(outsider).get(reverse("practice:take", args=[take.pk])).status_code == 404
    assert client_for(learner).get(reverse("practice:take", args=[take.pk])).status_code == 200


def test_instructor_sees_takes_in_their_course(learner, instructor, lesson) -> None:  # type: ignore[no-untyped-def]
    take = create_take(learner, lesson)
    assert client_for(instructor).get(reverse("practice:take", args=[take.pk])).status_code == 200


def test_learner_cannot_create_courses(learner) -> None:  # type: ignore[no-untyped-def]
    client = client_for(learner)
    assert client.get(reverse("courses:create")).status_code == 403
    assert client.post(reverse("courses:create"), {"title": "Mine"}).status_code == 403
    assert not Course.objects.filter(title="Mine").exists()


def test_learner_cannot_add_lessons(learner, course) -> None:  # type: ignore[no-untyped-def]
    response = client_for(learner).get(reverse("courses:lesson_create", args=[course.pk]))
    assert response.status_code == 403


def test_instructor_creates_a_course_with_a_class_code(instructor) -> None:  # type: ignore[no-untyped-def]
    response = client_for(instructor).post(reverse("courses:create"), {"title": "Recorder basics"})
    course = Course.objects.get(title="Recorder basics")
    assert response.status_code == 302 and course.instructor == instructor
    assert len(course.class_code) == 8


def test_learner_joins_with_a_class_code_in_any_case(outsider, course) -> None:  # type: ignore[no-untyped-def]
    client = client_for(outsider)
    response = client.post(reverse("courses:join"), {"class_code": f" {course.class_code.lower()} "})
    assert response.status_code == 302
    assert Enrollment.objects.filter(course=course, learner=outsider).exists()
    assert client.get(reverse("courses:detail", args=[course.pk])).status_code == 200


def test_a_wrong_class_code_says_so(outsider, course) -> None:  # type: ignore[no-untyped-def]
    response = client_for(outsider).post(reverse("courses:join"), {"class_code": "NOPE1234"}, follow=True)
    assert "No course has that class code" in response.content.decode()
    assert not Enrollment.objects.filter(learner=outsider).exists()


def test_admin_sees_every_course_and_take(admin_user, learner, lesson) -> None:  # type: ignore[no-untyped-def]
    take = create_take(learner, lesson)
    client = client_for(admin_user)
    assert lesson.course.title in client.get(reverse("courses:list")).content.decode()
    assert client.get(reverse("practice:take", args=[take.pk])).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 200


def test_history_lists_only_your_takes(learner, outsider, lesson) -> None:  # type: ignore[no-untyped-def]
    mine = create_take(learner, lesson)
    Enrollment.objects.create(course=lesson.course, learner=outsider)
    theirs = create_take(outsider, lesson)
    content = client_for(learner).get(reverse("practice:history")).content.decode()
    assert f'data-take-id="{mine.pk}"' in content and f'data-take-id="{theirs.pk}"' not in content


def test_take_options_are_validated(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    client = client_for(learner)
    url = reverse("practice:take_create", args=[lesson.pk])
    bad = client.post(url, '{"tempo_factor": 9}', content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_options"
    garbage = client.post(url, "not json", content_type="application/json")
    assert garbage.status_code == 400
    good = client.post(url, '{"tempo_factor": 0.8}', content_type="application/json")
    assert good.status_code == 201
    take = Take.objects.get(pk=good.json()["take_id"])
    assert take.tempo_factor == 0.8 and take.from_measure == lesson.piece.first_measure
