from django.apps import AppConfig


class ConferenceConfig(AppConfig):
    name = "sprechzimmer.conference"
    verbose_name = "Konferenzen"
