"""A take is one attempt at a lesson; its note results are the verdicts of the listening engine."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from webapp.courses.models import Lesson


class TakeStatus(models.TextChoices):
    CREATED = "created", "Created"
    LIVE = "live", "Live"
    FINISHED = "finished", "Finished"
    INTERRUPTED = "interrupted", "Interrupted"


class Take(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="takes")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="takes")
    status = models.CharField(max_length=16, choices=TakeStatus.choices, default=TakeStatus.CREATED)
    tempo_factor = models.FloatField(default=1.0)
    from_measure = models.PositiveIntegerField(default=1)
    follower = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_s = models.FloatField(default=0.0)
    accuracy = models.FloatField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    audio = models.FileField(upload_to="takes/%Y/%m/", blank=True)
    end_reason = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"Take {self.pk} of {self.lesson} by {self.user}"

    @property
    def is_open(self) -> bool:
        return self.status in (TakeStatus.CREATED, TakeStatus.LIVE)


class NoteResult(models.Model):
    """The verdict on one score note (or an ``extra`` played note) in a take."""

    take = models.ForeignKey(Take, on_delete=models.CASCADE, related_name="note_results")
    note_id = models.CharField(max_length=32)
    result = models.CharField(max_length=16)
    cents = models.IntegerField(null=True, blank=True)
    ms = models.IntegerField(null=True, blank=True)
    detected_s = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["take", "id"]
        indexes = [models.Index(fields=["take", "note_id"])]
