"""A take is one attempt at a lesson; its note results are the verdicts of the listening engine."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from webapp.courses.models import Assignment, Lesson


class TakeStatus(models.TextChoices):
    CREATED = "created", "Created"
    LIVE = "live", "Live"
    FINISHED = "finished", "Finished"
    INTERRUPTED = "interrupted", "Interrupted"


class VerdictSource(models.TextChoices):
    LIVE = "live", "Live (as heard during the take)"
    FINAL = "final", "Final (offline alignment of the whole take)"


class Take(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="takes")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="takes")
    assignment = models.ForeignKey(
        Assignment, on_delete=models.SET_NULL, null=True, blank=True, related_name="takes",
        help_text="The assignment this take was made for, if any.",
    )
    status = models.CharField(max_length=16, choices=TakeStatus.choices, default=TakeStatus.CREATED)
    tempo_factor = models.FloatField(default=1.0)
    from_measure = models.PositiveIntegerField(default=1)
    to_measure = models.PositiveIntegerField(
        null=True, blank=True, help_text="Last bar judged (an assignment's excerpt); empty: to the end."
    )
    follower = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_s = models.FloatField(default=0.0)
    accuracy = models.FloatField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    audio = models.FileField(upload_to="takes/%Y/%m/", blank=True)
    """16 kHz mono 16-bit WAV of the take, at most ``FrameLimits.max_take_s`` (20 min, 38.4 MB)."""
    end_reason = models.CharField(max_length=64, blank=True)
    tolerances = models.JSONField(
        default=dict, blank=True, help_text="inference.feedback.Tolerances as a dict; empty means the defaults."
    )
    verdict_source = models.CharField(max_length=8, choices=VerdictSource.choices, default=VerdictSource.LIVE)
    realigned_at = models.DateTimeField(null=True, blank=True)
    realign_error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"Take {self.pk} of {self.lesson} by {self.user}"

    @property
    def played_bpm(self) -> float:
        """The tempo the take was followed at (``tempo_factor`` is relative to the piece's written tempo)."""
        return self.tempo_factor * self.lesson.piece.tempo_bpm

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


class VoiceCommand(models.Model):
    """What the recogniser heard when a learner spoke to Etude (text only; the audio is not kept apart from the
    take's own recording). Admins review these on the review page to see what learners say and what fails."""

    class Source(models.TextChoices):
        VOICE = "voice", "Hands-free, during a take"
        PUSH_TO_TALK = "push_to_talk", "Push-to-talk"
        CLIP = "clip", "Between takes"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="voice_commands")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="voice_commands")
    take = models.ForeignKey(Take, on_delete=models.SET_NULL, null=True, blank=True, related_name="voice_commands")
    source = models.CharField(max_length=16, choices=Source.choices)
    text = models.CharField(max_length=500, blank=True)
    intent = models.CharField(max_length=32, help_text="The intent's name; 'unknown' when nothing was understood.")
    slots = models.JSONField(default=dict, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    t = models.FloatField(null=True, blank=True, help_text="Seconds into the take where the command ended.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["-created_at"]), models.Index(fields=["intent"])]

    def __str__(self) -> str:
        return f"{self.user}: {self.text!r} → {self.intent}"
