from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Startet Sprechzimmer mit Daphne (ASGI) für den Betrieb, ohne Daphnes eigenes Zugriffsprotokoll: "
        "sprechzimmer.access schreibt jede Anfrage mit geschwärzten Geheimnissen (docs/operations.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1", help="Adresse (Standard 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="Port (Standard 8000)")

    def handle(self, bind, port, **options):
        from daphne.cli import CommandLineInterface

        # -v 0: Daphne writes no access log of its own; its log lines would hold paths unredacted.
        CommandLineInterface().run(["-v", "0", "-b", bind, "-p", str(port), "sprechzimmer.asgi:application"])
