from django.apps import AppConfig


class ComposerConfig(AppConfig):
    name = "webapp.composer"
    label = "composer"
    verbose_name = "Composer"
