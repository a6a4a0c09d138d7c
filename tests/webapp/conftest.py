"""Users of each role, a course with a lesson built from a real corpus piece, and logged-in clients."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import corpus_score
from webapp.accounts.models import Role, User
from webapp.accounts.services import create_user
from webapp.courses.models import Course, Enrollment, Lesson
from webapp.courses.services import create_course, create_lesson, create_piece

PASSWORD = "a-long-test-password"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):  # type: ignore[no-untyped-def]
    """Hashing with the production hasher costs ~0.3 s per user on this machine and tests make many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def instructor(db) -> User:  # type: ignore[no-untyped-def]
    return create_user("teacher", PASSWORD, role=Role.INSTRUCTOR)


@pytest.fixture
def learner(db) -> User:  # type: ignore[no-untyped-def]
    return create_user("pupil", PASSWORD, role=Role.LEARNER, email="pupil@example.com")


@pytest.fixture
def outsider(db) -> User:  # type: ignore[no-untyped-def]
    return create_user("stranger", PASSWORD, role=Role.LEARNER)


@pytest.fixture
def admin_user(db) -> User:  # type: ignore[no-untyped-def]
    return create_user("boss", PASSWORD, role=Role.ADMIN)


@pytest.fixture
def course(instructor: User, learner: User) -> Course:
    course = create_course(instructor, "Folk fiddle", "Tunes for beginners")
    Enrollment.objects.create(course=course, learner=learner)
    return course


@pytest.fixture
def lesson(course: Course, instructor: User) -> Lesson:
    parsed = corpus_score("essenFolksong/kinder0", 1)
    piece = create_piece(instructor, parsed, source_name="kinder0.abc", source_bytes=None)
    return create_lesson(course, piece, title="Lullaby")


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
