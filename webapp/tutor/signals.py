"""Hook into practice without touching it: when a take is saved as ended, record its outcome for the tutor."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from webapp.practice.models import Take, TakeStatus

logger = logging.getLogger(__name__)
ENDED = (TakeStatus.FINISHED, TakeStatus.INTERRUPTED)


@receiver(post_save, sender=Take, dispatch_uid="tutor-record-take-outcome")
def take_saved(sender: type[Take], instance: Take, **kwargs: Any) -> None:
    if instance.status not in ENDED or _awaits_realignment(instance):
        return
    take_id = instance.pk
    transaction.on_commit(lambda: _record(take_id))


def _awaits_realignment(take: Take) -> bool:
    """A take whose audio will be re-aligned offline is observed once its final verdicts are in (or the
    alignment has failed), not from the live verdicts saved first."""
    return (
        bool(take.audio)
        and getattr(settings, "ETUDE_REALIGN_TAKES", False)
        and getattr(take, "verdict_source", "final") == "live"
        and not getattr(take, "realign_error", "")
    )


def _record(take_id: int) -> None:
    from webapp.tutor.tasks import record_take_outcome

    try:
        record_take_outcome.delay(take_id)
    except Exception:  # the take is saved either way; the tutor must never break practice
        logger.exception("tutor could not record the outcome of take %s", take_id)
