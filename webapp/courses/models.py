"""Courses that instructors run, the pieces they upload and the lessons built on them."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models

CLASS_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in class
CLASS_CODE_LENGTH = 8


def new_class_code() -> str:
    return "".join(secrets.choice(CLASS_CODE_ALPHABET) for _ in range(CLASS_CODE_LENGTH))


class Course(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    instructor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="courses_taught")
    class_code = models.CharField(max_length=16, unique=True, default=new_class_code)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Enrollment(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course", "learner"], name="one_enrollment_per_course")]


def piece_upload_path(piece: Piece, filename: str) -> str:
    return f"scores/{piece.owner_id}/{secrets.token_hex(8)}-{filename[-80:]}"


class Piece(models.Model):
    """An uploaded score: the original file, its normalised MusicXML, the SVG and the note list."""

    title = models.CharField(max_length=200)
    composer = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pieces")
    source_file = models.FileField(upload_to=piece_upload_path, blank=True)
    source_name = models.CharField(max_length=255)
    format = models.CharField(max_length=16)
    musicxml = models.TextField()
    svg = models.TextField(help_text="Verovio SVG pages, each wrapped in <div class='score-page'>.")
    notes = models.JSONField(help_text="ScoreNote dicts in onset order; ids match the SVG.")
    tempo_bpm = models.FloatField()
    measure_count = models.PositiveIntegerField()
    note_count = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    @property
    def first_measure(self) -> int:
        """0 when the score opens with a pickup bar, else 1."""
        return min((int(n["measure"]) for n in self.notes), default=1)

    def note_ids_between(self, first: int | None, last: int | None) -> set[str]:
        """Ids of the notes in bars ``first`` to ``last`` (None: from the start / to the end)."""
        low, high = -1 if first is None else first, 10**9 if last is None else last
        return {n["note_id"] for n in self.notes if low <= int(n["measure"]) <= high}

    def score_notes(self) -> list[Any]:
        from inference.types import ScoreNote

        return [ScoreNote.from_dict(n) for n in self.notes]


class Lesson(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons")
    piece = models.ForeignKey(Piece, on_delete=models.PROTECT, related_name="lessons")
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)
    tempo_bpm = models.FloatField(null=True, blank=True, help_text="Target tempo; empty means the written tempo.")
    follower = models.CharField(
        max_length=32, blank=True, help_text="Score follower for this lesson; empty means the site default."
    )
    tolerances = models.JSONField(
        default=dict,
        blank=True,
        help_text="How strictly takes are judged (inference.feedback.Tolerances keys); missing keys: defaults.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course", "order", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def target_bpm(self) -> float:
        return self.tempo_bpm or self.piece.tempo_bpm

    @property
    def judging(self) -> Any:
        """The lesson's ``inference.feedback.Tolerances``, defaults filled in (shown on the lesson page)."""
        from inference.feedback import Tolerances

        return Tolerances.from_dict(self.tolerances)

    @property
    def follower_name(self) -> str:
        """The follower takes of this lesson use: the lesson's choice, else ``ETUDE_FOLLOWER``."""
        from django.conf import settings

        return self.follower or settings.ETUDE_FOLLOWER


class Assignment(models.Model):
    """Work an instructor sets: an excerpt of a lesson at a tempo, by a date, judged with given tolerances.

    A learner's grade is their best take of it: the share of the excerpt's notes judged correct, counting
    takes at the assignment's tempo or faster (``webapp.courses.grading``).
    """

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="assignments")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="assignments")
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    from_measure = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: the lesson's first bar.")
    to_measure = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: to the end.")
    tempo_bpm = models.FloatField(null=True, blank=True, help_text="Empty: the lesson's target tempo.")
    due_at = models.DateTimeField(null=True, blank=True)
    pass_mark = models.FloatField(default=0.8, help_text="Share of the excerpt's notes correct to pass (0-1).")
    tolerances = models.JSONField(
        default=dict, blank=True, help_text="Overrides of the lesson's tolerances for takes of this assignment."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["course", models.F("due_at").asc(nulls_last=True), "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def first_bar(self) -> int:
        return self.from_measure or self.lesson.piece.first_measure

    @property
    def last_bar(self) -> int:
        return self.to_measure or self.lesson.piece.measure_count

    @property
    def target_bpm(self) -> float:
        return self.tempo_bpm or self.lesson.target_bpm

    @property
    def judged_with(self) -> dict[str, float]:
        """The tolerances a take of this assignment is judged by: the lesson's, then this assignment's."""
        return {**self.lesson.tolerances, **self.tolerances}

    @property
    def judging(self) -> Any:
        """``judged_with`` as ``inference.feedback.Tolerances``, defaults filled in."""
        from inference.feedback import Tolerances

        return Tolerances.from_dict(self.judged_with)

    def excerpt_label(self) -> str:
        first, last = self.first_bar, self.last_bar
        return f"bar {first}" if first == last else f"bars {first}–{last}"
