"""The tutor's records: policy versions, each learner's state per course, every decision and its outcome.

Decisions keep the policy's inputs and full action probabilities next to the observed outcome and reward,
so that later policies can be evaluated off-policy (inverse propensity scoring) and retrained from the logs.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from inference.tutor.exercises import HELPS
from webapp.courses.models import Course, Lesson
from webapp.practice.models import Take

MIN_RATING, MAX_RATING = 1, 5
HELP_CHOICES = [(h, h.replace("_", " ")) for h in HELPS]


class PolicySource(models.TextChoices):
    SHIPPED = "shipped", "Shipped with Etude"
    RETRAINED = "retrained", "Retrained from logs and simulation"


class PolicyVersion(models.Model):
    """One version of a teaching policy. Learned policies carry their ONNX model and torch weights."""

    name = models.CharField(max_length=32)
    version = models.PositiveIntegerField()
    source = models.CharField(max_length=16, choices=PolicySource.choices, default=PolicySource.SHIPPED)
    onnx = models.BinaryField(blank=True, default=b"", editable=False)
    weights = models.BinaryField(blank=True, default=b"", editable=False, help_text="torch state_dict, to fine-tune")
    sha256 = models.CharField(max_length=64, blank=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="Training configuration and evaluation.")
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="one_policy_version_number")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class LearnerState(models.Model):
    """What the tutor has observed of one learner in one course (``inference.tutor.history`` as JSON)."""

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tutor_states")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="tutor_states")
    history = models.JSONField(default=dict, blank=True)
    takes_observed = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["learner", "course"], name="one_tutor_state_per_course")]

    def __str__(self) -> str:
        return f"Tutor state of {self.learner} in {self.course}"


class Decision(models.Model):
    """A recommendation: exercise, tempo and help, with the probabilities the policy gave them."""

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tutor_decisions")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="tutor_decisions")
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="decisions")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="tutor_decisions")
    exercise_key = models.CharField(max_length=64)
    exercise_title = models.CharField(max_length=255)
    from_measure = models.IntegerField(null=True, blank=True)
    to_measure = models.IntegerField(null=True, blank=True)
    tempo_factor = models.FloatField()
    help = models.CharField(max_length=16, choices=HELP_CHOICES)
    probability = models.FloatField(help_text="Probability the policy gave the whole action.")
    probabilities = models.JSONField(default=dict, help_text="Full distributions over exercises, tempi and helps.")
    context = models.JSONField(default=dict, help_text="Policy inputs: exercise keys, features, availability.")
    reason = models.CharField(max_length=300)
    is_overridden = models.BooleanField(default=False)
    override = models.JSONField(null=True, blank=True, help_text="What the learner chose instead.")
    take = models.ForeignKey(Take, on_delete=models.SET_NULL, null=True, blank=True, related_name="tutor_decisions")
    is_followed = models.BooleanField(null=True, blank=True, help_text="Did the take practise the recommendation?")
    outcome = models.JSONField(null=True, blank=True, help_text="Observed: accuracy, timing, tempo, rating, score.")
    reward = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    outcome_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["learner", "course", "-created_at"])]

    def __str__(self) -> str:
        return f"Decision {self.pk} for {self.learner}: {self.exercise_title}"

    @property
    def is_open(self) -> bool:
        return self.take_id is None and self.outcome is None


class TakeRating(models.Model):
    """The learner's 1-5 rating of the exercise they just played."""

    take = models.OneToOneField(Take, on_delete=models.CASCADE, related_name="tutor_rating")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tutor_ratings")
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_RATING), MaxValueValidator(MAX_RATING)]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=MIN_RATING, rating__lte=MAX_RATING), name="tutor_rating_1_to_5"
            )
        ]
