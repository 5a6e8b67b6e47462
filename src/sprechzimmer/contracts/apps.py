from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "sprechzimmer.contracts"
    verbose_name = "Vertrag und Rechnungen"
