"""Background work for practice."""

from __future__ import annotations

from celery import shared_task

from webapp.practice import services


@shared_task
def close_stale_takes() -> int:
    """Run periodically (Celery beat): takes left live by a crashed process become interrupted."""
    return services.close_stale_takes()


@shared_task(acks_late=True)
def realign_take(take_id: int) -> str:
    """Give a finished take its final verdicts: the offline alignment of its stored audio."""
    from webapp.practice.models import Take

    take = Take.objects.select_related("lesson__piece").filter(pk=take_id).first()
    if take is None:
        return "gone"
    try:
        services.realign_take(take)
    except services.TakeError as exc:
        return exc.code
    except Exception:  # recorded on the take and logged by the service; the live verdicts stay
        return "failed"
    return "final"
