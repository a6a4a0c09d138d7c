"""Instructors choose a score follower per lesson; takes of that lesson are followed by it."""

from __future__ import annotations

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


def test_an_instructor_picks_the_follower_of_a_lesson(instructor, course) -> None:  # type: ignore[no-untyped-def]
    response = _upload(client_for(instructor), course, follower="oltw")
    assert response.status_code == 302
    lesson = Lesson.objects.get(course=course)
    assert lesson.follower == "oltw" and lesson.follower_name == "oltw"


def test_an_unknown_follower_is_refused_and_nothing_is_saved(instructor, course) -> None:  # type: ignore[no-untyped-def]
    response = _upload(client_for(instructor), course, follower="telepathy")
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    assert not Lesson.objects.filter(course=course).exists()


def test_an_empty_choice_means_the_site_default(instructor, course, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ETUDE_FOLLOWER = "hmm"
    _upload(client_for(instructor), course)
    lesson = Lesson.objects.get(course=course)
    assert lesson.follower == "" and lesson.follower_name == "hmm"


@pytest.mark.django_db(transaction=True)
async def test_a_take_is_followed_by_its_lessons_follower(learner, lesson, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(PracticeConsumer, "limits", FrameLimits(burst_s=10_000, max_speed=10_000))
    lesson.follower = "oltw"
    await database_sync_to_async(lesson.save)()
    take = await database_sync_to_async(create_take)(learner, lesson)
    communicator = await connect(take.pk, learner)
    await start(communicator)
    notes = lesson.piece.score_notes()
    pcm, _ = performance_pcm(notes)
    await stream(communicator, pcm)
    await communicator.send_json_to({"type": "stop"})
    events = await drain(communicator)
    saved = await database_sync_to_async(Take.objects.get)(pk=take.pk)
    assert saved.follower == "oltw"
    reached = {i for e in events if e["type"] == "position" for i in e["note_ids"]}
    assert len(reached) >= 0.8 * len(notes)
