from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "sprechzimmer.records"
    verbose_name = "Verschlüsselte Datensätze"
