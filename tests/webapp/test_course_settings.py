"""Instructors keep their course: its title and description, its class code, and who is enrolled. Learners
can leave. Takes outlive enrolments."""

from __future__ import annotations

from django.urls import reverse

from tests.webapp.conftest import client_for
from webapp.courses.models import Course, Enrollment
from webapp.courses.services import join_course
from webapp.practice.models import Take
from webapp.practice.services import create_take


def test_the_instructor_renames_the_course(instructor, course) -> None:  # type: ignore[no-untyped-def]
    url = reverse("courses:edit", args=[course.pk])
    page = client_for(instructor).get(url)
    assert page.status_code == 200 and b"pupil" in page.content and course.class_code.encode() in page.content
    assert client_for(instructor).post(url, {"title": "Fiddle II", "description": "Harder"}).status_code == 302
    course.refresh_from_db()
    assert (course.title, course.description) == ("Fiddle II", "Harder")
    assert client_for(instructor).post(url, {"title": ""}).status_code == 400


def test_a_new_class_code_stops_the_old_one(instructor, outsider, course) -> None:  # type: ignore[no-untyped-def]
    old = course.class_code
    assert client_for(instructor).post(reverse("courses:new_code", args=[course.pk])).status_code == 302
    course.refresh_from_db()
    assert course.class_code != old and len(course.class_code) == 8
    assert client_for(outsider).post(reverse("courses:join"), {"class_code": old}).status_code == 302
    assert not Enrollment.objects.filter(course=course, learner=outsider).exists()
    join_course(outsider, course.class_code)
    assert Enrollment.objects.filter(course=course, learner=outsider).exists()


def test_removing_a_learner_keeps_their_takes(instructor, learner, lesson) -> None:  # type: ignore[no-untyped-def]
    course = lesson.course
    take = create_take(learner, lesson)
    url = reverse("courses:remove_learner", args=[course.pk, learner.pk])
    assert client_for(instructor).post(url).status_code == 302
    assert not Enrollment.objects.filter(course=course, learner=learner).exists()
    assert Take.objects.filter(pk=take.pk).exists()
    assert client_for(learner).get(reverse("courses:detail", args=[course.pk])).status_code == 404
    assert client_for(instructor).post(url).status_code == 404  # not enrolled any more


def test_a_learner_leaves_and_can_join_again(learner, course) -> None:  # type: ignore[no-untyped-def]
    detail = client_for(learner).get(reverse("courses:detail", args=[course.pk]))
    assert b"Leave this course" in detail.content
    assert client_for(learner).post(reverse("courses:leave", args=[course.pk])).status_code == 302
    assert not Course.objects.filter(enrollments__learner=learner).exists()
    assert client_for(learner).post(reverse("courses:leave", args=[course.pk])).status_code == 404
    join_course(learner, course.class_code)
    assert Course.objects.filter(enrollments__learner=learner).exists()


def test_only_the_instructor_manages_the_course(learner, outsider, course) -> None:  # type: ignore[no-untyped-def]
    title = course.title
    for client, status in ((client_for(learner), 403), (client_for(outsider), 404)):
        assert client.get(reverse("courses:edit", args=[course.pk])).status_code == status
        assert client.post(reverse("courses:edit", args=[course.pk]), {"title": "Mine"}).status_code == status
        assert client.post(reverse("courses:new_code", args=[course.pk])).status_code == status
        assert client.post(reverse("courses:remove_learner", args=[course.pk, learner.pk])).status_code == status
    course.refresh_from_db()
    assert course.title == title and Enrollment.objects.filter(course=course, learner=learner).exists()
    assert client_for(learner).get(reverse("courses:leave", args=[course.pk])).status_code == 405
