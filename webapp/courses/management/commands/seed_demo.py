"""``manage.py seed_demo``: demo users (passwords printed) and the demo course; safe to run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from webapp.courses.demo import DEMO_USERS, ensure_demo_course


class Command(BaseCommand):
    help = "Create or refresh the demo users and the demo course built from music21's corpus."

    def handle(self, *args: Any, **options: Any) -> None:
        course = ensure_demo_course()
        self.stdout.write(self.style.SUCCESS(f"Demo course '{course.title}' (class code {course.class_code}):"))
        for lesson in course.lessons.all():
            self.stdout.write(f"  lesson {lesson.pk}: {lesson.title} ({lesson.piece.note_count} notes)")
        self.stdout.write("Demo users (username / password):")
        for spec in DEMO_USERS:
            self.stdout.write(f"  {spec.role:<10} {spec.username} / {spec.password}")
