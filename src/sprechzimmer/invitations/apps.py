from django.apps import AppConfig


class InvitationsConfig(AppConfig):
    name = "sprechzimmer.invitations"
    verbose_name = "Einladungen und Erinnerungen"
