from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "sprechzimmer.accounts"
    verbose_name = "Praxis und Benutzer"
