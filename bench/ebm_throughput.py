"""Throughput of the EBM 4.3.1 check on a synthetic KVDT file (issue 4).

    .venv/bin/python bench/ebm_throughput.py [--cases 1000000] [--repeat 3] [--keep FILE] [--no-python]

Writes a KVDT file of N cases (~14 lines each: patient fields, quarter, one or two visits with GOPs
and LANRs, a diagnosis), then measures, each run in a fresh process so peak memory is its own:
  1. merely reading the file's lines (``for line in file``), the I/O floor;
  2. parse + check (KvdtReader → QuarterCheck.add for every case → summary) with the C scanner;
  3. the same with the Python line loop (SPRECHZIMMER_PURE_PYTHON=1), the reference.
Each is run ``--repeat`` times (the machine's other load makes single runs vary by ±10 %); prints the
best and the median: cases/s, lines/s, peak RSS and the ratio of check to read.
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

from sprechzimmer.billing.domain.kvdt import kvdt_line  # noqa: E402

LANRS = ["838382202", "123456640", "123456641", "100001402"]
PAUSCHALEN = ["03000", "03000", "03000", "13210", "04000"]


def generate(path: str, cases: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    # Pre-encode the lines that repeat; only ids and dates vary.
    line = kvdt_line
    lines = 0
    with open(path, "wb", buffering=1 << 20) as out:
        for field, content in (("8000", "con0"), ("8000", "besa"), ("0201", "521234500")):
            out.write(line(field, content))
            lines += 1
        days = [f"202407{d:02d}" for d in range(1, 31)]
        for number in range(cases):
            lanr = LANRS[number % len(LANRS)]
            kind = rng.random()
            day1, day2 = rng.choice(days), rng.choice(days)
            parts = [line("8000", "0101"), line("3000", str(100000 + number)), line("3101", "Mustermann"),
                     line("3102", "Erika"), line("3103", "19700101"), line("4101", "32024")]
            pauschale = PAUSCHALEN[number % len(PAUSCHALEN)]
            if kind < 0.15:  # video-only case
                visit1 = [pauschale, "01450", "88220"]
                visit2 = ["01450"]
            elif kind < 0.25:  # telephone-only
                visit1 = ["01435"]
                visit2 = []
            else:
                visit1 = [pauschale, "03040"] if pauschale == "03000" else [pauschale]
                visit2 = ["03230"]
            for day, visit in ((day1, visit1), (day2, visit2)):
                if not visit:
                    continue
                parts.append(line("5000", day))
                for gop in visit:
                    parts.append(line("5001", gop))
                    parts.append(line("5099", lanr))
            parts.append(line("6001", "J06.9"))
            out.write(b"".join(parts))
            lines += len(parts)
        out.write(line("8000", "con9"))
        lines += 1
    return lines


def measure(mode: str, path: str) -> dict:
    started = time.perf_counter()
    if mode == "read":
        count = 0
        with open(path, "rb", buffering=1 << 20) as f:
            for _ in f:
                count += 1
        result = {"lines": count}
    else:
        from sprechzimmer.billing.domain.catalogue import Catalogue
        from sprechzimmer.billing.domain.rulesets import RuleBook
        from sprechzimmer.billing.domain.run import CheckRun

        from sprechzimmer.billing.domain import kvdt

        with open(path, "rb", buffering=1 << 20) as f:
            run = CheckRun(f, rulebook=RuleBook.load(), catalogue=Catalogue.load())
            findings = 0
            for case_result in run.results():
                findings += len(case_result.findings)
            summary = run.summary()
        result = {"cases": summary.totals["cases"], "findings": findings,
                  "video_only": summary.totals["video_only_cases"], "c_scanner": kvdt.ACCELERATED}
    result["seconds"] = time.perf_counter() - started
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
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
        print(f"reusing {path}: {lines:,} lines")
    else:
        lines = generate(path, args.cases)
        print(f"generated {args.cases:,} cases, {lines:,} lines, {os.path.getsize(path) / 1e6:.0f} MB "
              f"in {time.perf_counter() - started:.1f} s")
    try:
        runs = {"read": {}, "check": {}, "check, Python loop": {"SPRECHZIMMER_PURE_PYTHON": "1"}}
        if args.no_python:
            del runs["check, Python loop"]
        figures = {}
        for name, env in runs.items():
            mode = "read" if name == "read" else "check"
            results = []
            for _ in range(args.repeat):
                out = subprocess.run([sys.executable, __file__, "--mode", mode, "--file", path], check=True,
                                     capture_output=True, text=True, env={**os.environ, **env}).stdout
                results.append(eval(out))  # noqa: S307 - our own child's repr of a dict
            figures[name] = results
        read = figures["read"]
        best_read = min(r["seconds"] for r in read)
        print(f"read lines only    : best {best_read:.2f} s, {read[0]['lines'] / best_read / 1e6:.2f} M lines/s, "
              f"peak RSS {max(r['peak_rss_mb'] for r in read):.0f} MB")
        for name in runs:
            if name == "read":
                continue
            results = figures[name]
            seconds = sorted(r["seconds"] for r in results)
            best, median = seconds[0], statistics.median(seconds)
            first = results[0]
            if name == "check":
                assert first["c_scanner"], "the C scanner is not built: pip install -e . with a C compiler"
            print(f"{'parse + check' if name == 'check' else name:<19}: best {best:.2f} s = "
                  f"{first['cases'] / best:,.0f} cases/s ({lines / best / 1e6:.2f} M lines/s), median "
                  f"{first['cases'] / median:,.0f} cases/s, peak RSS {max(r['peak_rss_mb'] for r in results):.0f} MB "
                  f"({first['video_only']:,} video-only cases, {first['findings']:,} findings); "
                  f"check/read {best / best_read:.1f}×")
    finally:
        if not args.keep:
            os.unlink(path)


if __name__ == "__main__":
    main()
