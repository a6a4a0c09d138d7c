from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "webapp.practice"
    label = "practice"
    verbose_name = "Practice"
