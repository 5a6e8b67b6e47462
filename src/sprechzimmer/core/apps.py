from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sprechzimmer.core"
    verbose_name = "Gemeinsamer Kern"
