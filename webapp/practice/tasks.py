"""Background work for practice."""

from __future__ import annotations

from celery import shared_task

from webapp.practice import services


@shared_task
def close_stale_takes() -> int:
    """Run periodically (Celery beat): takes left live by a crashed process become interrupted."""
    return services.close_stale_takes()
