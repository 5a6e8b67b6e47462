from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "sprechzimmer.jobs"
    verbose_name = "Hintergrundaufgaben"
