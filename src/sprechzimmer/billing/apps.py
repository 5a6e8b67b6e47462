from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "sprechzimmer.billing"
    verbose_name = "EBM-Abrechnungsprüfung"
    default_auto_field = "django.db.models.BigAutoField"
