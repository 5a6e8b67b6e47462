"""Throughput of the EBM 4.3.1 check on a synthetic KVDT file of a realistic shape (issues 4, 12).

    .venv/bin/python bench/ebm_throughput.py [--cases 1000000] [--repeat 3] [--keep FILE] [--no-python]

Writes a KVDT file of N Scheine shaped like a practice's export: con0, besa, adt0 with 9204, then per
patient one Schein or (30 % of patients) two or three (an 0101 and Überweisungsscheine 0102) written
one after the other, each with the patient block (name, birth date, address, payer: ~25 lines),
two to four visits with at least six services in all (5001 with 5098 and 5099, times on some),
the Pauschale of the patient's age tier (all tiers of 03001–03005, 04001–04005 and three
Grundpauschalen families), 10 % services with GOPs the catalogue does not know, two diagnoses.
Then measures, each run in a fresh process so peak memory is its own:
  1. merely reading the file's lines (``for line in file``), the I/O floor;
  2. parse + group + check (KvdtReader → Behandlungsfälle → QuarterCheck.add → summary) with the C
     scanner, the C rules paths (the plain path for cases without findings) and the default grouping
     window;
  3. the same with the Python line loop and the Python rules (SPRECHZIMMER_PURE_PYTHON=1), the reference.
Each is run ``--repeat`` times (the machine's other load makes single runs vary by ±10 %); prints the
best and the median: Scheine/s, Behandlungsfälle/s, lines/s, peak RSS and the ratio of check to read,
and the figures by the process's own CPU time (what one core does when the machine is shared), with
the ratio of check to read by CPU time and the share of Behandlungsfälle the plain path took.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from sprechzimmer.billing.domain.kvdt import kvdt_line
from sprechzimmer.core.formats import number, share

BSNR = "521234500"
LANRS = ["838382202", "123456640", "123456641", "100001702"]
#: Pauschale by age tier (completed years at the first contact, EBM 4.3.5; "bis zum vollendeten 4.
#: Lebensjahr" = up to 3): the families of 03000, 04000 and three Grundpauschalen.
TIERS = {
    "03": [(3, "03001"), (17, "03002"), (53, "03003"), (74, "03004"), (200, "03005")],
    "04": [(3, "04001"), (17, "04002"), (53, "04003"), (74, "04004"), (200, "04005")],
    "13": [(4, "13210"), (58, "13211"), (200, "13212")],
    "06": [(4, "06210"), (58, "06211"), (200, "06212")],
    "18": [(4, "18210"), (58, "18211"), (200, "18212")],
}
SERVICES = ["03230", "03220", "03330", "02300", "35150", "01420", "03221", "01442"]
UNKNOWN = ["32025", "32030", "33042", "40120", "32101"]  # lab, ultrasound, postage: not in our data
SURNAMES = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann"]


def _pauschale(family: str, age: int) -> str:
    for limit, code in TIERS[family]:
        if age <= limit:
            return code
    raise AssertionError


def generate(path: str, scheine: int, seed: int = 7) -> tuple[int, int]:
    """Writes the file; returns (lines, patients)."""
    rng = random.Random(seed)
    line = kvdt_line
    lines = 0
    header = [
        ("8000", "con0"),
        ("9103", "20241002"),
        ("9106", "4"),
        ("9132", "1"),
        ("8000", "besa"),
        ("0201", BSNR),
        ("0203", "Praxis Dr. Beispiel"),
        *[(f, v) for lanr in LANRS for f, v in (("0212", lanr), ("0211", "Beispiel"))],
        ("0205", "Hauptstraße 1"),
        ("0215", "70173"),
        ("0216", "Stuttgart"),
        ("0208", "0711 1"),
        ("8000", "adt0"),
        ("0105", "Y/99/1234/56/789"),
        ("9102", "52"),
        ("9212", "6.02"),
        ("0102", "PVS"),
        ("0103", "PVS 1.0"),
        ("9204", "32024"),
    ]
    days = [f"2024{m:02d}{d:02d}" for m in (7, 8, 9) for d in range(1, 29)]
    written = patients = 0
    with open(path, "wb", buffering=1 << 20) as out:
        for field, content in header:
            out.write(line(field, content))
            lines += 1
        while written < scheine:
            patients += 1
            age = rng.randrange(0, 95)
            # born in October to December: in the third quarter of 2024 the patient is ``age`` years old
            birth = f"{2024 - age - 1}{rng.randrange(10, 13):02d}{rng.randrange(1, 29):02d}"
            surname, first = rng.choice(SURNAMES), f"Vorname{patients}"
            family = rng.choice(["03", "03", "03", "04", "13", "06", "18"])
            count = 1 if rng.random() >= 0.30 else rng.choice((2, 2, 3))
            for schein in range(min(count, scheine - written)):
                written += 1
                lanr = LANRS[(patients + schein) % len(LANRS)]
                parts = [
                    line("8000", "0101" if schein == 0 else "0102"),
                    line("3000", str(100000 + patients)),
                    line("3101", surname),
                    line("3102", first),
                    line("3103", birth),
                    line("3107", "Lindenweg 7"),
                    line("3112", "70173"),
                    line("3113", "Stuttgart"),
                    line("3108", "1"),
                    line("3110", "W"),
                    line("4101", "32024"),
                    line("4104", "52101"),
                    line("4106", "00"),
                    line("4111", "108018007"),
                    line("4131", "00"),
                    line("4132", "00"),
                    line("4121", "0"),
                    line("4122", "00"),
                    line("4239", "00" if schein == 0 else "24"),
                ]
                if schein:
                    parts += [line("4218", "521234599"), line("4242", "123456697")]
                kind = rng.random()
                visits = rng.randrange(2, 5)
                gops = []
                if schein == 0:
                    gops.append([_pauschale(family, age)] + (["88220"] if kind < 0.12 else []))
                for _ in range(visits - len(gops)):
                    gops.append([])
                for visit in gops:
                    while len(visit) < 2:
                        visit.append(rng.choice(SERVICES))
                total = sum(len(v) for v in gops)
                while total < 6:
                    rng.choice(gops).append(rng.choice(SERVICES))
                    total += 1
                for visit in gops:  # 10 % of the services: GOPs the catalogue does not know
                    for i in range(len(visit)):
                        if rng.random() < 0.10:
                            visit[i] = rng.choice(UNKNOWN)
                    if kind < 0.12 and schein == 0:
                        visit.append("01450")
                chosen = sorted(rng.sample(days, len(gops)))
                for day, visit in zip(chosen, gops, strict=True):
                    parts.append(line("5000", day))
                    for position, gop in enumerate(visit):
                        parts.append(line("5001", gop))
                        if position == 0 and rng.random() < 0.5:
                            parts.append(line("5006", f"{rng.randrange(8, 18):02d}{rng.choice((0, 15, 30, 45)):02d}"))
                        parts += [line("5098", BSNR), line("5099", lanr)]
                parts += [line("6001", "J06.9"), line("6003", "G"), line("6001", "I10.90"), line("6003", "G")]
                out.write(b"".join(parts))
                lines += len(parts)
        for field in ("adt9", "con9"):
            out.write(line("8000", field))
            lines += 1
    return lines, patients


def measure(mode: str, path: str) -> dict:
    from sprechzimmer.billing.domain import kvdt
    from sprechzimmer.billing.domain.catalogue import DEFAULT_GOP_FILE, Catalogue
    from sprechzimmer.billing.domain.rulesets import RuleBook
    from sprechzimmer.billing.domain.run import CheckRun

    started = time.perf_counter()
    cpu_started = time.process_time()
    if mode == "read":
        count = 0
        with open(path, "rb", buffering=1 << 20) as f:
            for _ in f:
                count += 1
        result = {"lines": count}
    else:
        with open(path, "rb", buffering=1 << 20) as f:
            run = CheckRun(f, rulebook=RuleBook.load(), catalogue=Catalogue.load(DEFAULT_GOP_FILE))
            findings = 0
            for case_result in run.results():
                findings += len(case_result.findings)
            summary = run.summary()
        totals = summary.totals
        result = {
            "cases": totals["cases"],
            "scheine": totals["scheine"],
            "findings": findings,
            "services": totals["services"],
            "unchecked": totals["unchecked_services"]["count"],
            "video_only": totals["video_only_cases"],
            "scattered": totals["scattered_scheine"],
            "plain": run.check.plain_cases if run.check is not None else 0,
            "c_scanner": kvdt.ACCELERATED,
        }
    result["seconds"] = time.perf_counter() - started
    result["cpu_seconds"] = time.process_time() - cpu_started
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000, help="Scheine to write")
    parser.add_argument("--keep", help="write the file here and keep it (an existing file is reused)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-python", action="store_true", help="skip the Python line loop")
    parser.add_argument("--mode", choices=("read", "check"), help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        print(repr(measure(args.mode, args.file)))
        return
    path = args.keep or tempfile.mktemp(suffix=".con")
    started = time.perf_counter()
    if args.keep and os.path.exists(path):
        with open(path, "rb") as f:
            lines = sum(1 for _ in f)
        print(f"reusing {path}: {number(lines)} lines")
    else:
        lines, patients = generate(path, args.cases)
        print(
            f"generated {number(args.cases)} Scheine of {number(patients)} patients, {number(lines)} lines, "
            f"{number(os.path.getsize(path) / 1e6, 0)} MB in {number(time.perf_counter() - started, 1)} s"
        )
    try:
        runs = {"read": {}, "check": {}, "check, Python loop": {"SPRECHZIMMER_PURE_PYTHON": "1"}}
        if args.no_python:
            del runs["check, Python loop"]
        figures = {}
        for name, env in runs.items():
            mode = "read" if name == "read" else "check"
            results = []
            for _ in range(args.repeat):
                out = subprocess.run(
                    [sys.executable, __file__, "--mode", mode, "--file", path],
                    check=True,
                    capture_output=True,
                    text=True,
                    env={**os.environ, **env},
                ).stdout
                results.append(eval(out))
            figures[name] = results
        read = figures["read"]
        best_read = min(r["seconds"] for r in read)
        cpu_read = min(r["cpu_seconds"] for r in read)
        print(
            f"read lines only    : best {number(best_read, 2)} s, {number(read[0]['lines'] / best_read / 1e6, 2)} M lines/s, "
            f"CPU {number(cpu_read, 2)} s, peak RSS {number(max(r['peak_rss_mb'] for r in read), 0)} MB"
        )
        for name in runs:
            if name == "read":
                continue
            results = figures[name]
            seconds = sorted(r["seconds"] for r in results)
            best, median = seconds[0], statistics.median(seconds)
            cpu = min(r["cpu_seconds"] for r in results)
            first = results[0]
            if name == "check":
                assert first["c_scanner"], "the C scanner is not built: pip install -e . with a C compiler"
            print(
                f"{'parse + check' if name == 'check' else name:<19}: best {number(best, 2)} s = "
                f"{number(first['scheine'] / best, 0)} Scheine/s, {number(first['cases'] / best, 0)} Behandlungsfälle/s "
                f"({number(lines / best / 1e6, 2)} M lines/s), median {number(first['scheine'] / median, 0)} Scheine/s, "
                f"peak RSS {number(max(r['peak_rss_mb'] for r in results), 0)} MB; "
                f"check/read {number(best / best_read, 1)}×\n"
                f"{'':21}by CPU time (this process only, less the machine's other load): best {number(cpu, 2)} s = "
                f"{number(first['scheine'] / cpu, 0)} Scheine/s, {number(first['cases'] / cpu, 0)} Behandlungsfälle/s; "
                f"check/read {number(cpu / cpu_read, 1)}× by CPU time\n"
                f"{'':21}{number(first['scheine'])} Scheine in {number(first['cases'])} Behandlungsfällen, "
                f"{number(first['services'])} services ({number(first['services'] / first['scheine'], 1)} per Schein, "
                f"{share(first['unchecked'] / first['services'])} unknown), {number(first['video_only'])} video-only, "
                f"{number(first['findings'])} findings, {number(first['scattered'])} Scheine checked apart; "
                f"{number(first['plain'])} Behandlungsfälle ({share(first['plain'] / first['cases'])}) took the plain path"
            )
    finally:
        if not args.keep:
            os.unlink(path)


if __name__ == "__main__":
    main()
