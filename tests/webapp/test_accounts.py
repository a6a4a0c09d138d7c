"""Sign-up, login, logout and password reset through the console (test: in-memory) mail backend."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.webapp.conftest import PASSWORD
from webapp.accounts.models import Role, User

pytestmark = pytest.mark.django_db


def test_sign_up_as_a_learner_logs_you_in() -> None:
    client = Client()
    response = client.post(
        reverse("accounts:signup"),
        {"username": "newbie", "email": "", "role": "learner", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert User.objects.get(username="newbie").role == Role.LEARNER
    assert client.get(reverse("courses:list")).status_code == 200


def test_nobody_signs_up_as_admin() -> None:
    response = Client().post(
        reverse("accounts:signup"),
        {"username": "sneaky", "role": "admin", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200 and not User.objects.filter(username="sneaky").exists()


def test_login_and_logout(learner) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    response = client.post(reverse("login"), {"username": "pupil", "password": PASSWORD})
    assert response.status_code == 302
    client.post(reverse("logout"))
    assert client.get(reverse("courses:list")).status_code == 302


def test_password_reset_by_email(learner) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.post(reverse("password_reset"), {"email": "pupil@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body)
    assert link is not None
    form_page = client.get(link.group(1), follow=True)
    new_password = "another-long-password-9"
    client.post(form_page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})
    assert Client().login(username="pupil", password=new_password)
