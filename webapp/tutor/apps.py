from django.apps import AppConfig


class TutorConfig(AppConfig):
    name = "webapp.tutor"
    label = "tutor"
    verbose_name = "Tutor"

    def ready(self) -> None:
        from webapp.tutor import signals  # noqa: F401  (connects the take-finished hook)
