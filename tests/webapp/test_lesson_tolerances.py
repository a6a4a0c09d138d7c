"""Instructors set how strictly a lesson is judged (pitch tolerance, timing window, A4, transposing
instrument); every take of the lesson is judged that way."""

from __future__ import annotations

import dataclasses
import json

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.inference.test_scores import TWINKLE_ABC
from tests.webapp.channels_helpers import connect, drain, performance_pcm, start, stream
from tests.webapp.conftest import client_for
from webapp.courses.models import Lesson
from webapp.practice.consumers import PracticeConsumer
from webapp.practice.limits import FrameLimits
from webapp.practice.models import Take
from webapp.practice.services import create_take


def _upload(client, course, **fields):  # type: ignore[no-untyped-def]
    url = reverse("courses:lesson_create", args=[course.pk])
    return client.post(url, {"score": SimpleUploadedFile("twinkle.abc", TWINKLE_ABC), **fields})


def test_an_instructor_sets_the_tolerances_and_new_takes_use_them(instructor, learner, course) -> None:  # type: ignore[no-untyped-def]
    fields = {"cents_tolerance": "30", "timing_window_ms": "80", "a4_hz": "442", "transpose_semitones": "-2"}
    response = _upload(client_for(instructor), course, **fields)
    assert response.status_code == 302
    lesson = Lesson.objects.get(course=course)
    expected = {"cents_tolerance": 30.0, "timing_window_ms": 80.0, "a4_hz": 442.0, "transpose_semitones": -2.0}
    assert lesson.tolerances == expected
    created = client_for(learner).post(
        reverse("practice:take_create", args=[lesson.pk]), "{}", content_type="application/json"
    )
    assert created.status_code == 201
    assert Take.objects.get(pk=json.loads(created.content)["take_id"]).tolerances == expected


def test_empty_tolerance_fields_keep_the_defaults(instructor, learner, course) -> None:  # type: ignore[no-untyped-def]
    _upload(client_for(instructor), course)
    lesson = Lesson.objects.get(course=course)
    take = create_take(learner, lesson)
    assert take.tolerances == {
        "cents_tolerance": 50.0, "timing_window_ms": 150.0, "a4_hz": 440.0, "transpose_semitones": 0.0
    }


BAD_FIELDS = [("cents_tolerance", "1"), ("timing_window_ms", "5000"), ("a4_hz", "300"), ("transpose_semitones", "5")]


@pytest.mark.parametrize("bad", BAD_FIELDS)
def test_out_of_range_tolerances_are_refused_and_nothing_is_saved(instructor, course, bad) -> None:  # type: ignore[no-untyped-def]
    response = _upload(client_for(instructor), course, **dict([bad]))
    assert response.status_code == 400
    assert not Lesson.objects.filter(course=course).exists()


async def _share_right(learner, lesson, transpose: float) -> float:  # type: ignore[no-untyped-def]
    """Share of a take's verdicts that accept the pitch, for written notes played on a B-flat instrument."""
    lesson.tolerances = {"transpose_semitones": transpose}
    await database_sync_to_async(lesson.save)()
    take = await database_sync_to_async(create_take)(learner, lesson)
    communicator = await connect(take.pk, learner)
    await start(communicator)
    sounding = [dataclasses.replace(n, midi=n.midi - 2) for n in lesson.piece.score_notes()]
    pcm, _ = performance_pcm(sounding)
    await stream(communicator, pcm)
    await communicator.send_json_to({"type": "stop"})
    verdicts = [e for e in await drain(communicator) if e["type"] == "verdict"]
    return sum(v["result"] in ("correct", "early", "late") for v in verdicts) / max(len(verdicts), 1)


@pytest.mark.django_db(transaction=True)
async def test_a_b_flat_lesson_judges_sounding_pitch_a_tone_below_the_written(learner, lesson, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A B-flat clarinettist plays the written notes, which sound a tone lower: right on a B-flat lesson. The
    same audio on a concert-pitch lesson is the control (the lullaby's narrow range lets the follower find
    some shifted notes elsewhere, so it is not all wrong, but far less right)."""
    monkeypatch.setattr(PracticeConsumer, "limits", FrameLimits(burst_s=10_000, max_speed=10_000))
    on_b_flat = await _share_right(learner, lesson, -2.0)
    at_concert_pitch = await _share_right(learner, lesson, 0.0)
    assert on_b_flat >= 0.8
    assert at_concert_pitch <= on_b_flat - 0.3


def test_the_lesson_page_says_how_strictly_it_judges(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    lesson.tolerances = {"cents_tolerance": 25.0, "a4_hz": 442.0, "transpose_semitones": -2.0}
    lesson.save()
    page = " ".join(client_for(learner).get(reverse("practice:lesson", args=[lesson.pk])).content.decode().split())
    assert "Judged within ±25 cents and ±150 ms, A4 = 442 Hz; written pitch for an instrument sounding -2" in page


def test_an_instructor_changes_a_lessons_settings_and_new_takes_follow(instructor, learner, lesson) -> None:  # type: ignore[no-untyped-def]
    old_take = create_take(learner, lesson)
    url = reverse("courses:lesson_edit", args=[lesson.course.pk, lesson.pk])
    page = client_for(instructor).get(url)
    assert page.status_code == 200 and b"Lullaby" in page.content
    fields = {"title": "Lullaby, slowly", "instructions": "Breathe", "tempo_bpm": "60", "follower": "oltw",
              "cents_tolerance": "20", "transpose_semitones": "-9"}
    response = client_for(instructor).post(url, fields)
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert (lesson.title, lesson.tempo_bpm, lesson.follower) == ("Lullaby, slowly", 60.0, "oltw")
    assert lesson.tolerances == {"cents_tolerance": 20.0, "transpose_semitones": -9.0}
    assert create_take(learner, lesson).tolerances["transpose_semitones"] == -9.0
    old_take.refresh_from_db()
    assert old_take.tolerances == {}  # judged as it was set up (the defaults)
    again = client_for(instructor).get(url).content.decode()
    assert 'value="20.0"' in again and '<option value="-9" selected>' in again


def test_only_the_courses_instructor_changes_lesson_settings(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    url = reverse("courses:lesson_edit", args=[lesson.course.pk, lesson.pk])
    assert client_for(learner).post(url, {"title": "Mine now"}).status_code == 403
    lesson.refresh_from_db()
    assert lesson.title == "Lullaby"


def test_bad_settings_are_refused_and_the_lesson_is_unchanged(instructor, lesson) -> None:  # type: ignore[no-untyped-def]
    url = reverse("courses:lesson_edit", args=[lesson.course.pk, lesson.pk])
    response = client_for(instructor).post(url, {"title": "x", "a4_hz": "500"})
    assert response.status_code == 400
    lesson.refresh_from_db()
    assert lesson.title == "Lullaby" and lesson.tolerances == {}


def test_a_lesson_is_only_reached_through_its_own_course(instructor, lesson) -> None:  # type: ignore[no-untyped-def]
    from webapp.courses.services import create_course

    other = create_course(instructor, "Another course", "")
    url = reverse("courses:lesson_edit", args=[other.pk, lesson.pk])
    assert client_for(instructor).post(url, {"title": "Moved"}).status_code == 404
    lesson.refresh_from_db()
    assert lesson.title == "Lullaby"
