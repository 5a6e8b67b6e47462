from django.apps import AppConfig


class ApprovalConfig(AppConfig):
    name = "sprechzimmer.approval"
    verbose_name = "KV-Genehmigung"
