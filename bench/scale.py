"""Benchmark (#12): the config at a municipality's size. Generates block-style configs of
1,000 / 5,000 / 20,000 people (units of 20, one duty phone each, like the issue's) and times
`routing check` on each in its own process: wall seconds and peak RSS (ru_maxrss of the child).

    .venv/bin/python bench/scale.py [--people 1000 5000 20000] [--runs 3]

Prints one line per size: the best of `runs` wall times, and the peak RSS of that run.
Calls and reports at scale (the rest of #12) are not measured here yet.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

UNIT_SIZE = 20


def config_text(people: int) -> str:
    units = max(1, people // UNIT_SIZE)
    lines = [
        "version: 1",
        "timezone: Europe/Stockholm",
        "working_hours:",
        '  mon-fri: "08:00-17:00"',
        "asterisk:",
        "  ami:",
        "    secret_env: ROUTING_AMI_SECRET",
        "  ari:",
        "    password_env: ROUTING_ARI_PASSWORD",
        "switchboard:",
        '  extension: "9000"',
        "  device: PJSIP/9000",
        '  voicemail: "9000@default"',
        "units:",
    ]
    for unit in range(units):
        lines += [
            f"  - id: u{unit}",
            f"    name: Enhet {unit}",
            f'    number: "{100000 + unit}"',
            f"    telephone_officer: p{unit * UNIT_SIZE}",
            f'    duty_phone: "{200000 + unit * UNIT_SIZE}"',
            f'    voicemail: "{100000 + unit}@default"',
        ]
    lines.append("people:")
    for person in range(people):
        lines += [
            f"  - id: p{person}",
            f"    name: Person {person}",
            f"    unit: u{min(person // UNIT_SIZE, units - 1)}",
            f'    extension: "{200000 + person}"',
            f"    device: PJSIP/{200000 + person}",
            f'    voicemail: "{200000 + person}@default"',
        ]
    return "\n".join(lines) + "\n"


def measure(path: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one `routing check` in its own process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "routing", "check", "--config", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"routing check failed on {path}: {process.stderr.read().decode() if process.stderr else ''}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="routing-scale-") as folder:
        print(f"{'people':>8} {'check s':>9} {'peak RSS MB':>12}")
        for people in args.people:
            path = Path(folder) / f"people-{people}.yaml"
            path.write_text(config_text(people), encoding="utf-8")
            best = min((measure(path) for _ in range(args.runs)), key=lambda result: result[0])
            print(f"{people:>8} {best[0]:>9.2f} {best[1]:>12.0f}")


if __name__ == "__main__":
    main()
