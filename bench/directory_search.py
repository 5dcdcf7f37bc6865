"""Benchmark (#14 search as you type): one directory search of the switchboard's API at a
municipality's size, as it runs on the service's event loop. Builds the 20,000-person config of
bench/scale.py, then prints, for queries that stop early (many hits) and queries that scan
everyone (one hit at the end, no hit, digits), the milliseconds one search takes (median and
max of `--runs`) and the time to build the index once per config load.

    .venv/bin/python bench/directory_search.py [--people 20000] [--runs 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import config_text

from routing.config import load_config
from routing.policy.directory import Directory
from routing.policy.state import RoutingState
from routing.switchboard.directory_view import DirectoryIndex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "routing.yaml"
        path.write_text(config_text(args.people), encoding="utf-8")
        directory = Directory.from_config(load_config(path))
    started = time.perf_counter()
    index = DirectoryIndex(directory)
    print(f"people {args.people}: index built in {(time.perf_counter() - started) * 1000:.1f} ms")
    now = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
    last = args.people - 1
    queries = {
        "many hits (stops at 50)": "person",
        "one hit, the last person": f"person {last}",
        "no hit": "zzzz",
        "digits, one extension": str(200000 + last),
    }
    for what, query in queries.items():
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            hits = index.search(query, {}, RoutingState(), now)
            times.append((time.perf_counter() - started) * 1000)
        print(
            f"  {what:<28} q={query!r:<16} hits {len(hits):>3}  "
            f"p50 {statistics.median(times):6.2f} ms  max {max(times):6.2f} ms"
        )


if __name__ == "__main__":
    main()
