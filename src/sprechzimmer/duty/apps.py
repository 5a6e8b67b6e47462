from django.apps import AppConfig


class DutyConfig(AppConfig):
    name = "sprechzimmer.duty"
    verbose_name = "Ärztlicher Bereitschaftsdienst"
    default_auto_field = "django.db.models.BigAutoField"
