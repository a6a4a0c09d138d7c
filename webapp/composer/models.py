"""The composer's durable state: each learner's Q-tables, sessions, episodes, melodies and ratings.

Everything the loop needs between two ratings is here (not in the web session), so a learner resumes where
they stopped on any device. The Q-table is one JSON value per learner and agent variant.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Variant(models.TextChoices):
    IMPROVED = "improved", "Improved agent"
    ORIGINAL = "original", "Original (Justus 2023, as published)"


class AgentState(models.Model):
    """One learner's Q-table and reward model for one agent variant; they persist across sessions."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="composer_agents")
    variant = models.CharField(max_length=16, choices=Variant.choices)
    q_table = models.JSONField(default=dict, help_text='{"version": 1, "q": {key: [value, visits]}}')
    reward_model = models.JSONField(default=dict, blank=True, help_text="RewardModel.to_json(): prior and statistics.")
    ratings_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "variant"], name="one_agent_per_user_variant")]

    def __str__(self) -> str:
        return f"{self.user} · {self.variant}"


class ComposerSession(models.Model):
    """A run of episodes with fixed parameters; the newest open one is where the learner resumes."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="composer_sessions")
    variant = models.CharField(max_length=16, choices=Variant.choices, default=Variant.IMPROVED)
    base_note = models.PositiveSmallIntegerField()
    scale = models.CharField(max_length=32)
    length = models.PositiveSmallIntegerField()
    tempo_bpm = models.PositiveSmallIntegerField()
    ratings_per_episode = models.PositiveSmallIntegerField()
    turn = models.JSONField(help_text="inference.composer.loop.Turn.to_dict() of the melody awaiting a rating.")
    is_open = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} · {self.scale} from {self.base_note}"

    def params_dict(self) -> dict[str, int | str]:
        return {"base_note": self.base_note, "scale": self.scale, "length": self.length, "tempo_bpm": self.tempo_bpm}


class Episode(models.Model):
    session = models.ForeignKey(ComposerSession, on_delete=models.CASCADE, related_name="episodes")
    number = models.PositiveIntegerField(help_text="0-based, as in the loop.")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "number"]
        constraints = [models.UniqueConstraint(fields=["session", "number"], name="one_episode_number_per_session")]


class Melody(models.Model):
    """One track the learner heard; ``edit`` is the action(s) that made it from ``parent``."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="melodies")
    step = models.PositiveIntegerField()
    track = models.JSONField()
    edit = models.JSONField(null=True, blank=True)
    parent = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children")
    svg = models.TextField(blank=True)
    notes = models.JSONField(default=list, help_text="ScoreNote dicts; ids match the SVG.")
    lesson = models.ForeignKey(
        "courses.Lesson", on_delete=models.SET_NULL, null=True, blank=True, related_name="composer_melodies"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["episode", "step", "id"]

    @property
    def owner_id(self) -> int:
        return int(self.episode.session.user_id)


class Rating(models.Model):
    """A learner's 1-10 rating of a melody, with optional sub-ratings and the reward the agent was given."""

    melody = models.OneToOneField(Melody, on_delete=models.CASCADE, related_name="rating")
    value = models.PositiveSmallIntegerField()
    extras = models.JSONField(default=dict, blank=True)
    reward = models.FloatField(null=True, blank=True)
    was_reverted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(value__gte=1, value__lte=10), name="rating_1_to_10")]
