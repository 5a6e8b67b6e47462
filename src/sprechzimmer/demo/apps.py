from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "sprechzimmer.demo"
    verbose_name = "Demodaten"
