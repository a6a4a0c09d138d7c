"""Instructors upload scores; bad files are refused with a clear message and nothing is created."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from inference.scores import MAX_SCORE_BYTES
from tests.inference.test_scores import TWINKLE_ABC
from tests.webapp.conftest import client_for
from webapp.courses.models import Lesson, Piece

pytestmark = pytest.mark.django_db


def _upload(client, course, name: str, data: bytes, **fields):  # type: ignore[no-untyped-def]
    url = reverse("courses:lesson_create", args=[course.pk])
    return client.post(url, {"score": SimpleUploadedFile(name, data), **fields})


def test_an_abc_upload_becomes_a_lesson(instructor, course) -> None:  # type: ignore[no-untyped-def]
    response = _upload(client_for(instructor), course, "twinkle.abc", TWINKLE_ABC, title="Twinkle", tempo_bpm="80")
    assert response.status_code == 302
    lesson = Lesson.objects.get(course=course, title="Twinkle")
    assert lesson.piece.note_count == 14 and lesson.target_bpm == 80
    assert lesson.piece.source_file.read() == TWINKLE_ABC
    assert 'class="note"' in lesson.piece.svg


def test_a_musicxml_upload_keeps_ids_that_match_the_svg(instructor, course, lullaby) -> None:  # type: ignore[no-untyped-def]
    _upload(client_for(instructor), course, "lullaby.musicxml", lullaby.musicxml.encode())
    piece = Piece.objects.get(source_name="lullaby.musicxml")
    assert all(f'id="{n["note_id"]}"' in piece.svg for n in piece.notes)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.txt", b"hello", "not a score file"),
        (
            "evil.xml",
            b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><score-partwise>&e;</score-partwise>',
            "external references",
        ),
        ("broken.xml", b"<score-partwise><part>", "not well-formed XML"),
        ("big.abc", b"X" * (MAX_SCORE_BYTES + 10), "the limit is 2 MB"),
    ],
)
def test_bad_uploads_are_refused_clearly(instructor, course, name: str, data: bytes, message: str) -> None:  # type: ignore[no-untyped-def]
    response = _upload(client_for(instructor), course, name, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Piece.objects.exists() and not Lesson.objects.exists()


@override_settings(ETUDE_MAX_REQUEST_BYTES=4096)
def test_requests_over_the_body_limit_get_413(instructor, course) -> None:  # type: ignore[no-untyped-def]
    response = _upload(client_for(instructor), course, "twinkle.abc", TWINKLE_ABC + b"%" * 8000)
    assert response.status_code == 413
    assert b"limit is 4096 bytes" in response.content
