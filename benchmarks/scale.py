"""`python -m benchmarks.scale`: the sizing figures of docs/scale.md, from a benchmark JSON.

Reads the `engine` suite of a `python -m benchmarks --only engine` report (default
benchmarks/results/engine.json) -- history events and bytes per command, CPU milliseconds per
command of the Temporal server, the worker and the API, stored bytes and events per command --
and sizes a program of 2,566, 190,000 and 41.77 million children under monthly monitoring.

The assumptions are flags, printed with the figures; everything measured comes from the JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from benchmarks.common import RESULTS_DIR

POPULATIONS: Final = (2_566, 190_000, 41_770_000)
WORKING_SECONDS_PER_YEAR: Final = 250 * 8 * 3600  # commands come in office hours


@dataclass(frozen=True, slots=True)
class Assumptions:
    # Monthly monitoring: 12 visits, 12 deliveries of a monthly allowance, 2 other assistance
    # requests, 1 assessment or review, 1 plan, 2 other commands (referral, school check...).
    commands_per_case_year: float = 30.0
    peak_factor: float = 3.0  # busiest hour against the office-hours mean
    target_utilisation: float = 0.6  # of a core, at peak
    cores_per_node: int = 8  # Temporal history/frontend/matching nodes
    events_per_shard_per_s: float = 25.0  # history events a shard takes at peak, with headroom
    min_shards: int = 128
    partition_max_rows: float = 200e6  # events per partition of the events table
    replica_reads_per_s: float = 2_000.0  # stream replays one read replica serves at peak
    retention_years: float = 1.0  # Temporal keeps closed runs' histories this long


@dataclass(frozen=True, slots=True)
class Measured:
    history_events_per_command: float
    history_bytes_per_command: float
    server_cpu_ms: float
    worker_cpu_ms: float
    api_cpu_ms: float
    store_bytes_per_event: float
    store_events_per_command: float
    caseflow_cases_per_s: float
    commands_per_case: int


def measured_from(report: dict[str, Any]) -> Measured:
    try:
        engine = report["suites"]["engine"]
    except KeyError:
        raise SystemExit(
            "the report has no engine suite: run `python -m benchmarks --only engine` first"
        ) from None
    details = engine["details"]
    per = details["per_command"]
    cpu = per["cpu_ms_per_command"]
    [throughput] = [r for r in engine["results"] if r["name"] == "cases/s: caseflow vs bare"]
    return Measured(
        history_events_per_command=per["history_events_per_command"],
        history_bytes_per_command=per["history_bytes_per_command"],
        server_cpu_ms=cpu["temporal_server"],
        worker_cpu_ms=cpu["worker"],
        api_cpu_ms=cpu["api"],
        store_bytes_per_event=details["store"]["total_bytes_per_event"],
        store_events_per_command=per["store_events_per_command"],
        caseflow_cases_per_s=throughput["caseflow"]["events_per_s"],
        commands_per_case=details["history"]["commands_per_case"],
    )


def _pow2(value: float) -> int:
    return 1 << max(0, math.ceil(math.log2(max(value, 1.0))))


def size(children: int, m: Measured, a: Assumptions) -> dict[str, float]:
    commands_year = children * a.commands_per_case_year
    peak_cmd_s = commands_year / WORKING_SECONDS_PER_YEAR * a.peak_factor
    history_events_year = commands_year * m.history_events_per_command
    peak_history_events_s = peak_cmd_s * m.history_events_per_command
    server_cores = peak_cmd_s * m.server_cpu_ms / 1000 / a.target_utilisation
    worker_cores = peak_cmd_s * m.worker_cpu_ms / 1000 / a.target_utilisation
    api_cores = peak_cmd_s * m.api_cpu_ms / 1000 / a.target_utilisation
    events_year = commands_year * m.store_events_per_command
    return {
        "children": children,
        "commands_per_year": commands_year,
        "peak_commands_per_s": peak_cmd_s,
        "history_events_per_case_year": a.commands_per_case_year * m.history_events_per_command,
        "history_bytes_per_case_year": a.commands_per_case_year * m.history_bytes_per_command,
        "history_events_per_year": history_events_year,
        "history_gb_retained": commands_year
        * m.history_bytes_per_command
        * a.retention_years
        / 1e9,
        "peak_history_events_per_s": peak_history_events_s,
        "history_shards": max(
            a.min_shards, _pow2(peak_history_events_s / a.events_per_shard_per_s)
        ),
        "temporal_cores": server_cores,
        "temporal_nodes": max(3, math.ceil(server_cores / a.cores_per_node)),
        "worker_processes": max(2, math.ceil(worker_cores)),
        "api_processes": max(2, math.ceil(api_cores)),
        "store_events_per_year": events_year,
        "store_gb_per_year": events_year * m.store_bytes_per_event / 1e9,
        "events_partitions_per_year": max(1, math.ceil(events_year / a.partition_max_rows)),
        "read_replicas": math.ceil(peak_cmd_s / a.replica_reads_per_s),
        "open_workflows": children,
    }


def render(rows: list[dict[str, float]], m: Measured, a: Assumptions) -> str:
    labels = [
        ("commands per year", "commands_per_year", "{:,.0f}"),
        ("peak commands/s", "peak_commands_per_s", "{:,.1f}"),
        ("history events per case-year", "history_events_per_case_year", "{:,.0f}"),
        ("history KB per case-year", "history_bytes_per_case_year", "{:,.1f}"),
        ("history events per year", "history_events_per_year", "{:,.0f}"),
        ("history GB retained", "history_gb_retained", "{:,.1f}"),
        ("peak history events/s", "peak_history_events_per_s", "{:,.0f}"),
        ("history shards", "history_shards", "{:,.0f}"),
        ("Temporal server cores at peak", "temporal_cores", "{:,.1f}"),
        ("Temporal nodes", "temporal_nodes", "{:,.0f}"),
        ("worker processes (1 core each)", "worker_processes", "{:,.0f}"),
        ("API processes (1 core each)", "api_processes", "{:,.0f}"),
        ("events stored per year", "store_events_per_year", "{:,.0f}"),
        ("events table GB per year", "store_gb_per_year", "{:,.1f}"),
        ("events partitions per year", "events_partitions_per_year", "{:,.0f}"),
        ("read replicas", "read_replicas", "{:,.0f}"),
        ("open workflows", "open_workflows", "{:,.0f}"),
    ]
    header = "| figure | " + " | ".join(f"{row['children']:,.0f} children" for row in rows) + " |"
    rule = "|---|" + "---:|" * len(rows)
    lines = [header, rule]
    for label, key, fmt in labels:
        values = [
            fmt.format(row[key] / 1000 if key == "history_bytes_per_case_year" else row[key])
            for row in rows
        ]
        lines.append(f"| {label} | " + " | ".join(values) + " |")
    measured = ", ".join(f"{k}={v}" for k, v in asdict(m).items())
    assumed = ", ".join(f"{k}={v}" for k, v in asdict(a).items())
    return "\n".join([*lines, "", f"measured: {measured}", f"assumed: {assumed}"])


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__)
    p.add_argument(
        "--input", type=Path, default=RESULTS_DIR / "engine.json", help="the benchmark JSON"
    )
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    for name, value in asdict(Assumptions()).items():
        p.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    report = json.loads(options.input.read_text(encoding="utf-8"))
    measured = measured_from(report)
    assumptions = Assumptions(**{k: getattr(options, k) for k in asdict(Assumptions())})
    rows = [size(children, measured, assumptions) for children in POPULATIONS]
    if options.json:
        print(json.dumps({"measured": asdict(measured), "sizes": rows}, indent=2))
    else:
        print(render(rows, measured, assumptions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
