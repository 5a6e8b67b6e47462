from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "sprechzimmer.jobs"
    verbose_name = "Hintergrundaufgaben"

    def ready(self) -> None:
        from sprechzimmer import metrics

        metrics.connect_task_signals()
