from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "sprechzimmer.operations"
    verbose_name = "Betrieb"
