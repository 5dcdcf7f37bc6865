"""Benchmark: calls through the sandbox Asterisk, once routed by the service (`routing run` as
its own process), once through routing-flow asking bench/null_agi.py (FastAGI with no policy:
the floor of the design) and once by a plain dialplan doing the same (Dial with the ring
limit, then VoiceMail) with no service, in the same run. Prints the numbers; a script, not a
test.

    python bench/run.py --calls 600 --rate 10 --max-concurrent 100

Needs root (the sandbox). A third of the calls are answered after 1 s, a third ring out, a third
meet a busy phone (150 phones, each called once every 150 calls); every caller hangs up 1 s
after the answer or the voicemail greeting.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from panoramisk.message import Message

from routing.ami.client import AmiClient
from routing.sandbox import lifecycle

ROOT = Path(__file__).resolve().parents[1]
# 150 phones, a third of each kind, each called once every 150 calls (15 s at 10 calls/s, longer
# than any call): the sandbox's Local phones show "in use" while they ring, and routing passes
# a phone in use over (R2), so two calls at once on one phone would not be the same call twice.
BEHAVIOURS = {str(6100 + i): ("answer1", "ring", "busy")[i % 3] for i in range(150)}
FIRST = next(iter(BEHAVIOURS))
MAX_RINGS, RING_PERIOD_S = 3, 1.0
LIMIT_S = MAX_RINGS * RING_PERIOD_S
TALK_S = 1.0
BENCH_EVENTS = (
    "Event: Newchannel",
    "Event: DialBegin",
    "Event: DialEnd",
    "Event: Hangup",
    "Application: VoiceMail",  # the Newexten that starts the mailbox
    "Application: AGI",  # each FastAGI connection a call opens (#12 item 9), on any of its channels
    "Event: OriginateResponse",  # panoramisk completes an async Originate with it
)


@dataclass
class CallTrace:
    number: str
    channel_id: str
    created: float | None = None
    first_dial: float | None = None
    dial_ends: list[tuple[float, str, float]] = field(default_factory=list)  # (at, status, began)
    voicemail_at: float | None = None
    answered_at: float | None = None
    hung_up: float | None = None
    agi: list[str] = field(default_factory=list)  # the scripts asked, one FastAGI connection each


@dataclass
class Run:
    name: str
    traces: dict[str, CallTrace] = field(default_factory=dict)
    cpu_service_s: float = 0.0
    cpu_asterisk_s: float = 0.0
    rss_service_mb: float = 0.0
    wall_s: float = 0.0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _config(tmp: Path, sandbox: lifecycle.RunningSandbox, port: int, store_url: str | None = None) -> Path:
    secret = tmp / "ami.secret"
    secret.write_text(sandbox.ami_secret)
    secret.chmod(0o600)
    people = [
        {
            "id": f"p{i}",
            "name": f"Person {i}",
            "unit": "u",
            "extension": ext,
            "device": f"Local/{behaviour}-{ext}@sandbox-phones",
            "voicemail": "5001@default",
        }
        for i, (ext, behaviour) in enumerate(BEHAVIOURS.items())
    ]
    data = {
        "version": 1,
        "timezone": "Europe/Stockholm",
        "calendar": {"holidays": "none"},
        "working_hours": {"mon-sun": "00:00-24:00"},
        "ring": {"max_rings": MAX_RINGS, "ring_period_s": RING_PERIOD_S, "progress_timeout_s": 2},
        "fallback": ["voicemail"],
        "asterisk": {
            "ami": {
                "host": sandbox.ami_host,
                "port": sandbox.ami_port,
                "username": sandbox.ami_username,
                "secret_file": str(secret),
            },
            "ari": {"password_env": "ROUTING_ARI_PASSWORD"},
            "agi": {"listen": f"127.0.0.1:{port}"},
        },
        "switchboard": {"extension": "9000", "device": "Local/ring-sb@sandbox-phones", "voicemail": "9000@default"},
        "units": [
            {
                "id": "u",
                "name": "U",
                "number": "6000",
                "telephone_officer": "p0",
                "duty_phone": FIRST,
                "voicemail": "5000@default",
            }
        ],
        "people": people,
        "prompts": {"dir": "/var/lib/routing/prompts"},
        "store": {"url": store_url or f"sqlite:///{(tmp / 'routing.db').as_posix().lstrip('/')}"},
        # info, as a site runs it: every call event is written to the log and the store, so the
        # service's CPU includes what it costs to keep the record (#12 item 9).
        "logging": {"file": str(tmp / "routing.log"), "level": "info"},
    }
    path = tmp / "bench.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@dataclass
class Tracked:
    """The calls of every run, by the caller's channel id, with an event set at its hangup."""

    by_channel: dict[str, CallTrace] = field(default_factory=dict)
    done: dict[str, asyncio.Event] = field(default_factory=dict)


def _watch(ami: AmiClient, tracked: Tracked) -> None:
    """One event handler for the whole run (a handler per round would pile up)."""
    by_channel, done_events = tracked.by_channel, tracked.done

    def on_event(message: Message) -> None:
        now = _event_time(message)
        uid = str(message.get("Uniqueid", ""))
        name = message.event
        if name == "Newexten" and message.get("Application") == "AGI":
            # On the caller's channel (the steps, the hangup handler) or on the answering
            # phone's (Dial's U()): the call's Linkedid is the caller's Uniqueid either way.
            linked = by_channel.get(str(message.get("Linkedid", "")))
            if linked is not None:
                linked.agi.append(_agi_script(str(message.get("AppData", ""))))
            return
        trace = by_channel.get(uid)
        if trace is None:
            return
        if name == "Newchannel" and trace.created is None:
            trace.created = now
        elif name == "DialBegin" and trace.first_dial is None:
            trace.first_dial = now
        elif name == "DialEnd":
            trace.dial_ends.append((now, str(message.get("DialStatus")), trace.first_dial or now))
            if message.get("DialStatus") == "ANSWER":
                trace.answered_at = now
        elif name == "Newexten" and message.get("Application") == "VoiceMail" and trace.voicemail_at is None:
            trace.voicemail_at = now
        elif name == "Hangup":
            trace.hung_up = now
            done_events[uid].set()

    ami.on_event("*", on_event)


async def _drive(
    ami: AmiClient,
    tracked: Tracked,
    run: Run,
    context: str,
    calls: int,
    rate: float,
    concurrent: int,
    variables: dict[str, str],
) -> None:
    by_channel, done_events = tracked.by_channel, tracked.done
    limit = asyncio.Semaphore(concurrent)
    serial = itertools.count()
    numbers = itertools.cycle(BEHAVIOURS)

    async def one() -> None:
        async with limit:
            n = next(serial)
            uid = f"bench-{run.name}-{n}-{time.monotonic_ns():x}"
            trace = CallTrace(next(numbers), uid)
            by_channel[uid] = trace
            run.traces[uid] = trace
            done_events[uid] = asyncio.Event()
            fields = {
                "Action": "Originate",
                "Channel": f"Local/caller-b{n}@sandbox-caller",
                "Context": context,
                "Exten": trace.number,
                "Priority": "1",
                "Async": "true",
                "ChannelId": uid,
                "OtherChannelId": f"{uid}-c",
                "CallerID": '"Bench" <0701234567>',
            }
            if variables:
                fields["Variable"] = ",".join(f"{k}={v}" for k, v in variables.items())
            await ami.action(fields, timeout_s=30)
            deadline = time.time() + LIMIT_S + 20
            while time.time() < deadline and not done_events[uid].is_set():
                answered = trace.answered_at or trace.voicemail_at
                if answered is not None and time.time() - answered >= TALK_S:
                    break
                await asyncio.sleep(0.05)
            await ami.command(f"channel request hangup {uid}-c")
            await asyncio.wait_for(done_events[uid].wait(), 10)

    tasks = []
    for _ in range(calls):
        tasks.append(asyncio.create_task(one()))
        await asyncio.sleep(1 / rate)
    await asyncio.gather(*tasks, return_exceptions=True)


def _event_time(message: Message) -> float:
    """When Asterisk raised the event (its `Timestamp`, manager.conf timestampevents), not when
    this script got round to reading it: the script's own delays stay out of the numbers."""
    try:
        return float(str(message.get("Timestamp")))
    except ValueError:
        return time.time()


def _agi_script(app_data: str) -> str:
    """'agi://127.0.0.1:4700/step,<secret>,…' -> 'step'."""
    return app_data.split(",", 1)[0].rsplit("/", 1)[-1]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(run: Run) -> dict[str, float]:
    traces = list(run.traces.values())
    completed = [t for t in traces if t.hung_up is not None]
    answered = [t for t in completed if t.answered_at is not None or t.voicemail_at is not None]
    ring_errors = [
        abs((end - began) - LIMIT_S) * 1000
        for t in traces
        for end, status, began in t.dial_ends
        if status == "NOANSWER"
    ]
    setup = [(t.first_dial - t.created) * 1000 for t in traces if t.first_dial and t.created]
    # A call a phone answered, and one that ended in the mailbox (rang out or busy).
    picked_up = [t for t in completed if t.answered_at is not None]
    to_mailbox = [t for t in completed if t.answered_at is None]
    return {
        "calls": len(traces),
        "completed": len(completed),
        "rang_a_phone": len([t for t in traces if t.first_dial is not None]),
        "r2_answered_pct": 100 * len(answered) / len(traces) if traces else 0,
        "ring_error_p50_ms": _pct(ring_errors, 0.5),
        "ring_error_p99_ms": _pct(ring_errors, 0.99),
        "setup_p50_ms": _pct(setup, 0.5),
        "setup_p99_ms": _pct(setup, 0.99),
        "cpu_service_s": run.cpu_service_s,
        "cpu_asterisk_s": run.cpu_asterisk_s,
        "rss_service_mb": run.rss_service_mb,
        "wall_s": run.wall_s,
        "agi_per_answered_call": _mean([len(t.agi) for t in picked_up]),
        "agi_per_unanswered_call": _mean([len(t.agi) for t in to_mailbox]),
    }


def _mean(values: list[int]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _scripts(run: Run) -> str:
    """How often each FastAGI script was asked, over the run: 'step 1200, hangup 600'."""
    counts: dict[str, int] = {}
    for trace in run.traces.values():
        for script in trace.agi:
            counts[script] = counts.get(script, 0) + 1
    return ", ".join(f"{script} {n}" for script, n in sorted(counts.items(), key=lambda item: -item[1])) or "none"


async def _settled(pid: int, quiet_s: float = 1.0, most_s: float = 20.0) -> None:
    """Wait until the service is idle: after its AMI login it runs the installation checks (a
    probe call, the ARI check), whose CPU is not the calls'."""
    deadline = time.monotonic() + most_s
    before = _cpu_seconds(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(quiet_s)
        now = _cpu_seconds(pid)
        if now - before < 0.02:
            return
        before = now


async def _install_baseline(ami: AmiClient) -> None:
    """The baseline: the same devices, ring limit and mailbox (from AstDB), no service."""
    for priority, (app, data) in enumerate(
        [
            ("Dial", "${DB(routing/ext/${EXTEN}/dial)},${DB(routing/ext/${EXTEN}/timeout)}"),
            ("VoiceMail", "${DB(routing/ext/${EXTEN}/mailbox)},u"),
            ("Hangup", ""),
        ],
        start=1,
    ):
        await ami.action(
            {
                "Action": "DialplanExtensionAdd",
                "Context": "bench-baseline",
                "Extension": "_X.",
                "Priority": str(priority),
                "Application": app,
                "ApplicationData": data,
                "Replace": "yes",
            }
        )


async def main(args: argparse.Namespace) -> int:
    sandbox = lifecycle.up()
    asterisk_pid = sandbox.pid
    tmp = Path(tempfile.mkdtemp(prefix="routing-bench-"))
    port = 4700 + os.getpid() % 200
    config = _config(tmp, sandbox, port, args.store)
    env = {**os.environ, "ROUTING_ARI_PASSWORD": "unused"}
    service = subprocess.Popen([sys.executable, "-m", "routing", "run", "--config", str(config)], env=env)
    floor_port = port + 1
    numbers = {
        ext: [f"Local/{b}-{ext}@sandbox-phones", f"{LIMIT_S:g}", "5001@default"] for ext, b in BEHAVIOURS.items()
    }
    floor = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "null_agi.py"), str(floor_port), json.dumps(numbers)]
    )
    ami = AmiClient(sandbox.ami_host, sandbox.ami_port, sandbox.ami_username, sandbox.ami_secret, action_timeout_s=10)
    await ami.connect()
    # Only the events measured: a script parsing every dialplan step of 100 calls would compete
    # with Asterisk and the service for the same two cores and skew what it measures.
    for wanted in BENCH_EVENTS:
        await ami.action({"Action": "Filter", "Operation": "Add", "Filter": wanted})
    try:
        deadline = time.monotonic() + 20
        while f"/routing/ext/{FIRST}/dial" not in await ami.command("database show routing"):
            if time.monotonic() > deadline:
                raise SystemExit("routing run did not start")
            await asyncio.sleep(0.2)
        await _settled(service.pid)
        kinds = (
            ("routing", "routing-inbound", {"__ROUTING_AGI": f"agi://127.0.0.1:{port}"}),
            ("agi-floor", "routing-inbound", {"__ROUTING_AGI": f"agi://127.0.0.1:{floor_port}"}),
            ("baseline", "bench-baseline", {}),
        )
        runs = [Run(name) for name, _, _ in kinds]
        tracked = Tracked()
        _watch(ami, tracked)
        # With --rounds N each kind makes its calls in N parts, taking turns: whatever else the
        # machine does meanwhile falls on the three alike, and the ratios are steadier.
        per_round = [args.calls // args.rounds + (i < args.calls % args.rounds) for i in range(args.rounds)]
        for calls in per_round:
            for run, (name, context, variables) in zip(runs, kinds, strict=True):
                # Each part starts alike: no channels, empty mailboxes (a full one would answer
                # the later calls with "mailbox full", and app_voicemail slows as messages pile up).
                await asyncio.to_thread(lifecycle.reset, sandbox.settings)
                if name == "baseline":
                    await _install_baseline(ami)  # the reset's dialplan reload removed it
                cpu_s, cpu_a, t0 = _cpu_seconds(service.pid), _cpu_seconds(asterisk_pid), time.monotonic()
                await _drive(ami, tracked, run, context, calls, args.rate, args.max_concurrent, variables)
                run.wall_s += time.monotonic() - t0
                run.cpu_service_s += _cpu_seconds(service.pid) - cpu_s if name == "routing" else 0.0
                run.cpu_asterisk_s += _cpu_seconds(asterisk_pid) - cpu_a
                run.rss_service_mb = _peak_rss_mb(service.pid) if name == "routing" else 0.0
        keys = list(_summary(runs[0]))
        print(f"{'':22}" + "".join(f"{r.name:>12}" for r in runs))
        for key in keys:
            digits = 2 if key.startswith(("cpu", "agi")) else 1
            print(f"{key:22}" + "".join(f"{_summary(r)[key]:>12.{digits}f}" for r in runs))
        baseline = _summary(runs[-1])
        for q in ("p50", "p99"):
            ratios = [_summary(r)[f"setup_{q}_ms"] / baseline[f"setup_{q}_ms"] for r in runs]
            print(f"{f'setup_{q}_x_baseline':22}" + "".join(f"{x:>12.2f}" for x in ratios))
        # #12 item 9: the CPU a routed call costs the box (Asterisk and the service together)
        # against the plain dialplan's Asterisk doing the same calls. Target: at most 1.5.
        ratios = [(r.cpu_asterisk_s + r.cpu_service_s) / runs[-1].cpu_asterisk_s for r in runs]
        print(f"{'cpu_sum_x_baseline':22}" + "".join(f"{x:>12.2f}" for x in ratios))
        for r in runs[:-1]:
            print(f"FastAGI connections, {r.name}: {_scripts(r)}")
    finally:
        ami.close()
        floor.terminate()
        service.terminate()
        try:
            service.wait(45)  # calls still up get the service's drain bound (30 s)
        except subprocess.TimeoutExpired:
            service.kill()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--rate", type=float, default=10.0, help="calls started a second")
    parser.add_argument("--max-concurrent", type=int, default=100)
    parser.add_argument(
        "--rounds", type=int, default=1, help="make each kind's calls in this many parts, the kinds taking turns"
    )
    parser.add_argument(
        "--store", metavar="URL", help="the service's store (default: a SQLite file); e.g. an empty PostgreSQL database"
    )
    sys.exit(asyncio.run(main(parser.parse_args())))
