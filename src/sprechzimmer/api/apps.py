from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "sprechzimmer.api"
    verbose_name = "API"
