from django.apps import AppConfig


class StatusConfig(AppConfig):
    name = "sprechzimmer.status"
    verbose_name = "Status"
