"""Commands spoken between takes: the lesson's voice URL, and where "next"/"previous" lead."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.urls import reverse

from inference.audio import float_to_pcm16
from inference.speech.synthetic import silence, speak
from tests.conftest import require_binary
from tests.webapp.conftest import client_for
from webapp.courses.models import Lesson
from webapp.practice.models import VoiceCommand

pytestmark = pytest.mark.django_db


def _post(client, lesson: Lesson, body: bytes):  # type: ignore[no-untyped-def]
    url = reverse("practice:voice_command", args=[lesson.pk])
    return client.post(url, data=body, content_type="application/octet-stream")


def test_a_spoken_clip_comes_back_as_text_and_intent(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    require_binary("espeak-ng")
    clip = float_to_pcm16(np.concatenate((silence(0.3), speak("next exercise", "en-us", 150), silence(0.3))))
    response = _post(client_for(learner), lesson, clip)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "command" and body["intent"] == {"name": "next"} and body["latency_ms"] > 0
    kept = VoiceCommand.objects.get()  # for the admins' review
    assert (kept.user, kept.lesson, kept.take, kept.source) == (learner, lesson, None, "clip")
    assert (kept.intent, kept.slots, kept.text) == ("next", {}, body["text"])


def test_bad_audio_and_strangers_are_refused(learner, outsider, lesson, client) -> None:  # type: ignore[no-untyped-def]
    assert _post(client_for(learner), lesson, b"\x00" * 3).json()["error"] == "bad_audio"
    assert _post(client_for(learner), lesson, b"\x00\x00" * 16000 * 31).status_code == 400
    assert _post(client_for(outsider), lesson, b"\x00\x00" * 1600).status_code == 404
    assert _post(client, lesson, b"\x00\x00" * 1600).status_code == 302  # to the login page
    assert not VoiceCommand.objects.exists()


def test_the_lesson_page_knows_its_neighbours(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    second = Lesson.objects.create(course=lesson.course, piece=lesson.piece, title="Second", order=lesson.order + 1)
    page = client_for(learner).get(reverse("practice:lesson", args=[lesson.pk]))
    config = json.loads(page.content.decode().split('id="lesson-config" type="application/json">')[1].split("<")[0])
    assert config["next_lesson_url"] == reverse("practice:lesson", args=[second.pk])
    assert config["previous_lesson_url"] == "" and config["voice_url"]
