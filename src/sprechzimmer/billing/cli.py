"""``sprechzimmer ebm check FILE [--quarter Q/YYYY] [--format text|json]`` and
``sprechzimmer ebm catalogue import FILE`` (the KBV's EBM-Stammdatei).

Runs without Django (the billing rules are pure Python), so it needs no database or settings.
``check``: exit 0 when the file was checked, whatever it found; 2 with one German line on stderr
when the file cannot be read. ``catalogue import`` writes ``$DATA_DIR/ebm/gop.csv`` (DATA_DIR as for
the server, default ``./var``); every later check without ``--gop-file`` uses it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from .domain.catalogue import DEFAULT_GOP_FILE, Catalogue, import_stammdatei, imported_path, write_rows
from .domain.grouping import DEFAULT_WINDOW
from .domain.model import BillingError, Quarter
from .domain.numbers import count_text
from .domain.report import write_json, write_text
from .domain.rulesets import RuleBook
from .domain.run import CheckRun


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"Aufruf fehlerhaft: {message}\n")


def _window(raw: str) -> int | None:
    if raw == "alle":
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise argparse.ArgumentTypeError("eine Zahl ab 1 oder »alle«")
    return int(raw)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sprechzimmer ebm", description="Prüft eine Quartalsabrechnung gegen EBM 4.3.1.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    check = commands.add_parser("check", help="KVDT-Datei (.con) oder JSON-Fallformat prüfen")
    check.add_argument("file", help="KVDT-Datei oder JSON-Fallformat; - liest von stdin")
    check.add_argument("--quarter", help="Quartal, z. B. 3/2024 (sonst aus Feld 9204 der Datei)")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--all", action="store_true", help="im Text auch Fälle ohne Befund zeigen")
    check.add_argument("--gop-file", help="eigene GOP-Stammdaten (Spalten wie data/gop.csv)")
    check.add_argument("--rules-file", help="eigene Regelversionen (wie data/rulesets.json)")
    check.add_argument(
        "--window",
        type=_window,
        default=DEFAULT_WINDOW,
        help=f"höchstens so viele Scheine offen halten, um Behandlungsfälle zu bilden "
        f"(Vorgabe {DEFAULT_WINDOW}; »alle« hält die ganze Datei)",
    )
    catalogue = commands.add_parser("catalogue", help="GOP-Stammdaten verwalten")
    actions = catalogue.add_subparsers(dest="action", required=True, parser_class=_Parser)
    load = actions.add_parser("import", help="EBM-Stammdatei der KBV (XML) einspielen")
    load.add_argument("file", help="EBM-Stammdatei (XML, Satzart 850–853)")
    actions.add_parser("reset", help="eingespielte Stammdatei entfernen (wieder die eingebauten Daten)")
    actions.add_parser("show", help="zeigen, welche GOP-Daten die Prüfung verwendet")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "catalogue":
        return _catalogue(args)
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
            run = CheckRun(stream, quarter=quarter, rulebook=rulebook, catalogue=catalogue, window=args.window)
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


def _catalogue(args) -> int:
    target = imported_path()
    if args.action == "show":
        source = target if target.exists() else DEFAULT_GOP_FILE
        catalogue = Catalogue.load(source)
        print(f"GOP-Daten: {source} ({count_text(len(catalogue))} GOP)")
        return 0
    if args.action == "reset":
        if target.exists():
            target.unlink()
        print(f"Eingespielte Stammdatei entfernt; die Prüfung verwendet wieder {DEFAULT_GOP_FILE}.")
        return 0
    try:
        with open(args.file, "rb") as stream:
            rows, stats = import_stammdatei(stream, Catalogue.load(DEFAULT_GOP_FILE))
    except BillingError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"Fehler: {args.file} kann nicht gelesen werden ({exc.strerror}).", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written next to the target and renamed: a check running meanwhile sees the old or the new file.
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent, suffix=".tmp", delete=False) as out:
        out.write(
            f"# Imported from {Path(args.file).name} (KBV EBM-Stammdatei) by sprechzimmer ebm catalogue import.\n"
        )
        write_rows(rows, out)
    os.replace(out.name, target)
    print(
        f"EBM-Stammdatei eingespielt: {count_text(stats['gops'])} GOP ({count_text(stats['updated'])} mit unseren "
        f"Regeldaten ergänzt, {count_text(stats['new'])} neu, {count_text(stats['without_points'])} ohne "
        f"Punktbewertung). Die Prüfung verwendet jetzt {target}."
    )
    return 0
