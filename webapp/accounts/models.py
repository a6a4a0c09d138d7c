"""Etude's user: Django's user with one role."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    LEARNER = "learner", "Learner"
    INSTRUCTOR = "instructor", "Instructor"
    ADMIN = "admin", "Admin"


class User(AbstractUser):
    """A person using Etude. Admins also get Django's staff and superuser flags (see ``services``)."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.LEARNER)

    @property
    def is_learner(self) -> bool:
        return self.role == Role.LEARNER

    @property
    def is_instructor(self) -> bool:
        """Instructors and admins may create courses and lessons."""
        return self.role in (Role.INSTRUCTOR, Role.ADMIN)

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN
