import logging
import os
import sys

from django.core.management.base import BaseCommand

#: Connections the kernel holds for the server before it accepts them (capped by net.core.somaxconn).
BACKLOG = 2048
#: How long a websocket's opening handshake may wait for the application to accept it.
HANDSHAKE_SECONDS = 30


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
        # The endpoint instead of -b/-p for its backlog: Twisted's default of 50 pending connections
        # overflows when the patients of a restarted process all come back at once (a reconnect
        # storm through the load balancer answered them 502; bench/reconnect_storm.py).
        interface = bind.replace(":", r"\:")
        endpoint = f"tcp:port={port}:interface={interface}:backlog={BACKLOG}"
        # A handshake may wait its turn for longer than Daphne's 5 s in a storm; closing it then only
        # makes the browser come back and queue again.
        CommandLineInterface().run(
            [
                "-v",
                "0",
                "-e",
                endpoint,
                "--websocket_connect_timeout",
                str(HANDSHAKE_SECONDS),
                "sprechzimmer.asgi:application",
            ]
        )
        # Daphne has stopped its event loop (SIGTERM, SIGINT). A request that was inside a sync
        # middleware at that moment waits in a worker thread for that loop forever, and the
        # interpreter would join that thread at exit: the process then never ended and a restart
        # hung until SIGKILL. Nothing can complete on a stopped loop, so end here; the database
        # rolls back whatever such a request had open.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
