"""sprechzimmer-client: register this program's key, or run the GDT bridge (docs/api.md).

    SPRECHZIMMER_TOKEN=sz_… sprechzimmer-client --url https://praxis.example --key bridge.pem key
    SPRECHZIMMER_TOKEN=sz_… sprechzimmer-client --url … --key bridge.pem gdt --inbox IN --outbox OUT --doctor-id 3

The token is read from the environment, not from the command line (process lists and shell
histories show arguments)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from . import bridge
from .client import Client, ClientError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sprechzimmer-client", description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="Adresse der Sprechzimmer-Instanz")
    parser.add_argument("--key", required=True, type=Path, help="Datei des privaten Schlüssels (wird angelegt)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("key", help="Schlüssel anmelden und Fingerabdruck zeigen")
    gdt = commands.add_parser("gdt", help="GDT-Brücke: Anfragen (6302) beantworten (6310)")
    gdt.add_argument("--inbox", required=True, type=Path)
    gdt.add_argument("--outbox", required=True, type=Path)
    gdt.add_argument("--doctor-id", required=True, type=int)
    gdt.add_argument("--id", default="SZVS", help="GDT-ID der Brücke (vier Zeichen)")
    gdt.add_argument("--duration", type=int, default=15)
    gdt.add_argument("--lead-minutes", type=int, default=10)
    gdt.add_argument("--once", action="store_true", help="nur die vorhandenen Anfragen beantworten")
    args = parser.parse_args(argv)
    token = os.environ.get("SPRECHZIMMER_TOKEN", "")
    if not token:
        print("Bitte den API-Schlüssel in SPRECHZIMMER_TOKEN angeben.", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    client = Client(args.url, token, args.key)
    try:
        if args.command == "key":
            state = client.register_key()
            granted = "freigegeben" if state.get("wrapped_practice_key") else "noch nicht freigegeben"
            print(f"Fingerabdruck: {client.fingerprint} ({granted})")
            return 0
        settings = bridge.Settings(
            args.inbox, args.outbox, args.doctor_id, args.id[:4], args.duration, args.lead_minutes
        )
        if args.once:
            for path in bridge.process(client, settings):
                print(path)
        else:
            bridge.watch(client, settings)
    except ClientError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
