"""Background jobs: takes left live by a crashed process are closed as interrupted."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from webapp.celery import app
from webapp.practice.models import Take, TakeStatus
from webapp.practice.services import STALE_TAKE_AFTER, create_take
from webapp.practice.tasks import close_stale_takes

pytestmark = pytest.mark.django_db


def test_stale_live_takes_become_interrupted(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    stale, fresh = create_take(learner, lesson), create_take(learner, lesson)
    long_ago = timezone.now() - STALE_TAKE_AFTER - timedelta(minutes=1)
    Take.objects.filter(pk=stale.pk).update(status=TakeStatus.LIVE, started_at=long_ago)
    Take.objects.filter(pk=fresh.pk).update(status=TakeStatus.LIVE, started_at=timezone.now())
    assert close_stale_takes.delay().get() == 1
    assert Take.objects.get(pk=stale.pk).status == TakeStatus.INTERRUPTED
    assert Take.objects.get(pk=fresh.pk).status == TakeStatus.LIVE


def test_the_sweep_is_scheduled() -> None:
    schedule = app.conf.beat_schedule["close-stale-takes"]
    assert schedule["task"] == close_stale_takes.name
