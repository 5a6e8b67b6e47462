from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "sprechzimmer.booking"
    verbose_name = "Online-Terminbuchung"
