"""Background work for the tutor."""

from __future__ import annotations

from celery import shared_task

from webapp.practice.models import Take
from webapp.tutor import policy_store, services


@shared_task
def retrain_tutor_policy() -> dict[str, object]:
    """Fine-tune the population policy from the decision logs plus simulation, and publish it if it holds up."""
    version = policy_store.retrain_policy()
    return {"version": version.version, "is_active": version.is_active, "check": version.metrics.get("check")}


@shared_task
def record_take_outcome(take_id: int) -> int | None:
    """Update the learner's tutor state from a finished take; returns the decision it closed, if any."""
    take = Take.objects.filter(pk=take_id).select_related("lesson__piece", "lesson__course", "user").first()
    if take is None:
        return None
    decision = services.record_outcome(take)
    return decision.pk if decision is not None else None
