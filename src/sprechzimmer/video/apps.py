from django.apps import AppConfig


class VideoConfig(AppConfig):
    name = "sprechzimmer.video"
    verbose_name = "Videosprechstunde"
