"""``sprechzimmer ebm check FILE [--quarter Q/YYYY] [--format text|json]``.

Runs without Django (the billing rules are pure Python), so it needs no database or settings.
Exit 0 when the file was checked, whatever it found; 2 with one German line on stderr when the
file cannot be read.
"""

from __future__ import annotations

import argparse
import sys

from .domain.catalogue import Catalogue
from .domain.model import BillingError, Quarter
from .domain.report import write_json, write_text
from .domain.rulesets import RuleBook
from .domain.run import CheckRun


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"Aufruf fehlerhaft: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sprechzimmer ebm", description="Prüft eine Quartalsabrechnung gegen EBM 4.3.1.")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="KVDT-Datei (.con) oder JSON-Fallformat prüfen")
    check.add_argument("file", help="KVDT-Datei oder JSON-Fallformat; - liest von stdin")
    check.add_argument("--quarter", help="Quartal, z. B. 3/2024 (sonst aus Feld 4101 der Datei)")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--all", action="store_true", help="im Text auch Fälle ohne Befund zeigen")
    check.add_argument("--gop-file", help="eigene GOP-Stammdaten (Spalten wie data/gop.csv)")
    check.add_argument("--rules-file", help="eigene Regelversionen (wie data/rulesets.json)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        quarter = Quarter.parse(args.quarter) if args.quarter else None
        catalogue = Catalogue.load(args.gop_file)
        rulebook = RuleBook.load(args.rules_file)
        stream = sys.stdin.buffer if args.file == "-" else open(args.file, "rb", buffering=1 << 20)  # noqa: SIM115
    except BillingError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"Fehler: {args.file} kann nicht gelesen werden ({exc.strerror}).", file=sys.stderr)
        return 2
    try:
        with stream:
            run = CheckRun(stream, quarter=quarter, rulebook=rulebook, catalogue=catalogue)
            if args.format == "json":
                write_json(run, sys.stdout)
            else:
                write_text(run, sys.stdout, all_cases=args.all)
    except BillingError as exc:
        sys.stdout.flush()
        print(f"Fehler: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"Fehler: {args.file} kann nicht gelesen werden ({exc.strerror}).", file=sys.stderr)
        return 2
    return 0
