"""What the benches read of a server's processes from /proc: CPU time (stays meaningful on a busy
machine, where wall-clock rates do not) and resident memory. A process that has ended counts
nothing."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(*pids: int, children: bool = False) -> float:
    """User + system CPU time the processes have used so far (fields 14 and 15 of /proc/PID/stat);
    with ``children`` also that of their ended children (16 and 17), so a server that starts a
    process per connection (PostgreSQL) is counted whole when its parent is among ``pids``."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += int(fields[11]) + int(fields[12])
        if children:
            ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS


def memory_kb(*pids: int, field: str = "VmRSS") -> int:
    """The processes' resident memory (or another /proc/PID/status field, e.g. VmHWM) in KiB, summed."""
    total = 0
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except FileNotFoundError:
            continue
        total += sum(int(line.split()[1]) for line in lines if line.startswith(field + ":"))
    return total


def pids_named(name: str) -> list[int]:
    """The processes whose command name is ``name`` (e.g. every PostgreSQL backend of the machine)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return pids
