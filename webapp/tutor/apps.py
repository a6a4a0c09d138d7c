from django.apps import AppConfig


class TutorConfig(AppConfig):
    name = "webapp.tutor"
    label = "tutor"
    verbose_name = "Tutor"
