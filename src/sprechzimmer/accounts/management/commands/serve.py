import logging
import os
import sys

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
        # Daphne has stopped its event loop (SIGTERM, SIGINT). A request that was inside a sync
        # middleware at that moment waits in a worker thread for that loop forever, and the
        # interpreter would join that thread at exit: the process then never ended and a restart
        # hung until SIGKILL. Nothing can complete on a stopped loop, so end here; the database
        # rolls back whatever such a request had open.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
