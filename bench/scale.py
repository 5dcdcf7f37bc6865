"""Benchmark (#12): the config at a municipality's size. Generates block-style configs of
1,000 / 5,000 / 20,000 people (units of 20, one duty phone each, like the issue's) and times
`routing check` on each in its own process: wall seconds and peak RSS (ru_maxrss of the child).

    .venv/bin/python bench/scale.py [--people 1000 5000 20000] [--runs 3]

Prints one line per size: the best of `runs` wall times of `routing check` and of `routing
explain` (a call to the last unit of the file), each with the peak RSS of that run.

`--reload` then starts `routing run` with the largest config (no Asterisk: the AMI link only
retries), prints how long it took to listen and its RSS then, asks it for calls' first steps
over FastAGI as Asterisk would (with the site's secret, 20 a second), sends it SIGHUP in the
middle, and prints how long the answers took before, during and after the reload (p50, p99,
max): a reload must never delay a call.
Reports over millions of calls: bench/reports.py; calls through Asterisk: bench/run.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
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


def measured(argv: list[str], what: str) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one `routing …` command in its own process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "routing", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"routing {what} failed: {process.stderr.read().decode() if process.stderr else ''}")
    return wall, usage.ru_maxrss / 1024


def measure(path: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one `routing check`."""
    return measured(["check", "--config", str(path)], f"check on {path}")


async def _first_step(port: int, token: str, n: int) -> float:
    """One call's first FastAGI request, as the dialplan sends it; seconds to the answer."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    headers = [
        "agi_network_script: step",
        f"agi_uniqueid: bench.{n}",
        "agi_channel: Local/bench@bench-0000;1",
        "agi_callerid: 0701234567",
        "agi_extension: 200010",
        f"agi_arg_1: {token}",
        "agi_arg_2: start",
        "agi_arg_3: ",
        f"agi_arg_4: bench.{n}",
        "agi_arg_5: 1",
        "agi_arg_6: allowed",
    ]
    writer.write(("\n".join(headers) + "\n\n").encode())
    await writer.drain()
    line = await reader.readline()
    elapsed = time.perf_counter() - started
    writer.write(b"200 result=0\n")
    writer.close()
    if not line.startswith((b"EXEC MSet", b"SET VARIABLE")):
        raise SystemExit(f"the service did not answer a first step: {line!r}")
    return elapsed


def _summary(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"{len(values):>5} {statistics.median(values) * 1000:>8.1f} {p99 * 1000:>8.1f} {ordered[-1] * 1000:>8.1f}"


async def reload_latency(config: Path, folder: Path) -> None:
    from routing.store.sqlite import SqliteStore

    port = _free_port()
    text = config.read_text(encoding="utf-8").replace(
        "asterisk:\n", f'asterisk:\n  agi: {{listen: "127.0.0.1:{port}"}}\n', 1
    )
    text += f"store: {{url: 'sqlite:///{(folder / 'routing.db').as_posix().lstrip('/')}'}}\n"
    text += f"prompts: {{dir: {folder / 'prompts'}}}\n"
    config.write_text(text, encoding="utf-8")
    env = {**os.environ, "ROUTING_AMI_SECRET": "bench", "ROUTING_ARI_PASSWORD": "bench"}
    log = open(folder / "routing.log", "wb")  # noqa: SIM115  # closed below
    service = subprocess.Popen([sys.executable, "-m", "routing", "run", "--config", str(config)], stderr=log, env=env)
    try:
        began = time.monotonic()
        deadline = began + 60
        while b"service.started" not in (folder / "routing.log").read_bytes():
            if service.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("routing run did not start: " + (folder / "routing.log").read_text()[-800:])
            await asyncio.sleep(0.05)
        status = Path(f"/proc/{service.pid}/status").read_text().splitlines()
        rss_mb = int(next(line.split()[1] for line in status if line.startswith("VmRSS"))) // 1024
        listening = time.monotonic() - began
        print(f"\nrouting run with {config.name}: listening after {listening:.2f} s, RSS {rss_mb} MB")
        store = SqliteStore(folder / "routing.db")
        token = store.agi_token()
        store.close()
        phases: dict[str, list[float]] = {"before": [], "during": [], "after": []}
        phase = "before"
        n = 0
        started = time.monotonic()
        while time.monotonic() - started < 12:
            elapsed = time.monotonic() - started
            if phase == "before" and elapsed > 3:
                service.send_signal(signal.SIGHUP)
                phase = "during"
            if phase == "during" and b"config.reloaded" in (folder / "routing.log").read_bytes():
                phase = "after"
            n += 1
            phases[phase].append(await _first_step(port, token, n))
            await asyncio.sleep(0.05)
        print(f"\nfirst steps while a {config.name} reloads: calls, p50, p99, max in ms")
        for name, values in phases.items():
            print(f"{name:>8} {_summary(values)}" if values else f"{name:>8} (none)")
    finally:
        service.terminate()
        service.wait(timeout=60)
        log.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reload", action="store_true", help="also measure calls during a reload of the largest")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="routing-scale-") as folder:
        print(f"{'people':>8} {'check s':>9} {'peak RSS MB':>12} {'explain s':>10} {'peak RSS MB':>12}")
        for people in args.people:
            path = Path(folder) / f"people-{people}.yaml"
            path.write_text(config_text(people), encoding="utf-8")
            best = min((measure(path) for _ in range(args.runs)), key=lambda result: result[0])
            # A call to the last unit of the file, at a time inside working hours.
            explain = ["explain", "--config", str(path), "--to", str(100000 + max(1, people // UNIT_SIZE) - 1)]
            explain += ["--at", "2026-12-01T10:00"]
            told = min((measured(explain, "explain") for _ in range(args.runs)), key=lambda result: result[0])
            print(f"{people:>8} {best[0]:>9.2f} {best[1]:>12.0f} {told[0]:>10.2f} {told[1]:>12.0f}")
        if args.reload:
            asyncio.run(reload_latency(Path(folder) / f"people-{max(args.people)}.yaml", Path(folder)))


if __name__ == "__main__":
    main()
