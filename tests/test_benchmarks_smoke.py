"""`python -m benchmarks` runs end to end with tiny sizes and reports in the agreed shape.

Only the shape is checked, never the figures: speed targets live in the benchmarks, not here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from benchmarks import __main__ as bench_main
from benchmarks.common import REPORT_FORMAT, Server, SuiteResult

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 2
TINY = {
    "--single-events": 12,
    "--batch-events": 30,
    "--batch-size": 5,
    "--writers": 2,
    "--writer-events": 6,
    "--stream-length": 20,
    "--replay-events": 40,
    "--page-size": 16,
    "--warmup-events": 4,
    "--repeats": REPEATS,
    "--projector-events": 120,
    "--projector-stream-length": 30,
    "--projector-append-batch": 10,
    "--projector-batch-size": 25,
    "--projector-repeats": REPEATS,
    "--es-single-events": 12,
    "--es-batch-events": 30,
    "--es-batch-size": 5,
    "--es-stream-length": 20,
    "--es-replay-events": 40,
    "--es-warmup-events": 4,
}
PROJECTOR_RESULTS = [
    "rebuild caseload, 120 events",
    "rebuild approvals_inbox, 120 events",
    "rebuild assistance_ledger, 120 events",
    "rebuild program_report, 120 events",
    "catch up all 4, 120 events",
]
EVENTSOURCING_RESULTS = {  # name: target (caseflow/library, from issue 7)
    "append, 1 event/tx": 5.0,
    "append, 5 events/tx": 3.0,
    "reconstruct 40-event case": 4.0,
}
STORE_RESULTS = [
    "append, 1 event/tx",
    "append, 5 events/tx",
    "append, 2 writers",
    "replay 40-event case",
    "read whole log",
]


def check_sample(sample: dict[str, Any]) -> None:
    assert set(sample) == {"events_per_s", "runs"}
    assert len(sample["runs"]) == REPEATS
    assert all(run > 0 for run in sample["runs"])
    assert sample["events_per_s"] > 0


async def bench_databases(server_url: str) -> list[str]:
    connection = await asyncpg.connect(server_url)
    try:
        rows = await connection.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'caseflow_bench_%'"
        )
        return [row["datname"] for row in rows]
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def results(
    postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], str]:
    """The JSON report and the printed table of one tiny run (on the session's server)."""
    output = tmp_path_factory.mktemp("benchmarks") / "latest.json"
    sizes = [str(part) for flag, value in TINY.items() for part in (flag, value)]
    command = [sys.executable, "-m", "benchmarks", "--database-url", postgres_server_url]
    command += ["--only", "store", "--only", "projector", "--only", "eventsourcing"]
    command += ["--output", str(output), "--quiet", *sizes]
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    finished = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert finished.returncode == 0, finished.stderr
    return json.loads(output.read_text(encoding="utf-8")), finished.stdout


def test_the_store_benchmark_reports_every_figure_beside_its_baseline(
    results: tuple[dict[str, Any], str],
) -> None:
    report, printed = results
    assert report["format"] == REPORT_FORMAT
    assert report["environment"]["postgres"]["source"] == "DATABASE_URL"
    assert report["environment"]["postgres"]["server_version"]
    assert isinstance(report["all_targets_passed"], bool)
    store = report["suites"]["store"]
    assert store["settings"]["replay_events"] == TINY["--replay-events"]
    assert [result["name"] for result in store["results"]] == STORE_RESULTS
    for result in store["results"]:
        assert result["unit"] == "events/s"
        assert result["description"]
        check_sample(result["caseflow"])
        check_sample(result["baseline"])
        assert result["ratio"] > 0
        if result["target"] is None:
            assert result["passed"] is None
        else:
            assert result["passed"] is (result["ratio"] >= result["target"])
        assert isinstance(result["notes"], list)
        # The table names every figure.
        assert f"store: {result['name']}" in printed
    appends = [result for result in store["results"] if result["name"].startswith("append")]
    assert [result["target"] for result in appends] == [0.8, 0.8, 0.8]
    assert all(any("NOT gap-safe" in note for note in result["notes"]) for result in appends)
    assert store["details"]["baseline_gap_safe"] is False
    breakdown = store["details"]["replay_breakdown"]
    assert set(breakdown["caseflow"]) == {
        "read_stream_us_per_event",
        "decode_us_per_event",
        "fold_us_per_event",
    }
    assert set(breakdown["baseline"]) == {
        "fetch_us_per_event",
        "validate_and_apply_us_per_event",
    }


def test_the_projector_benchmark_reports_each_projection_beside_a_bare_copy(
    results: tuple[dict[str, Any], str],
) -> None:
    report, printed = results
    projector = report["suites"]["projector"]
    assert projector["settings"]["projector"]["events"] == TINY["--projector-events"]
    assert [result["name"] for result in projector["results"]] == PROJECTOR_RESULTS
    for result in projector["results"]:
        assert result["unit"] == "events/s"
        check_sample(result["caseflow"])
        check_sample(result["baseline"])
        assert result["ratio"] > 0
        assert result["target"] is None
        assert result["passed"] is None
        assert f"projector: {result['name']}" in printed
    assert projector["details"]["events"] == TINY["--projector-events"]
    assert projector["details"]["cases"] == 4


def test_the_eventsourcing_comparison_reports_each_figure_beside_the_library(
    results: tuple[dict[str, Any], str],
) -> None:
    report, printed = results
    suite = report["suites"]["eventsourcing"]
    assert suite["settings"]["replay_events"] == TINY["--es-replay-events"]
    assert suite["settings"]["repeats"] == REPEATS
    assert {result["name"]: result["target"] for result in suite["results"]} == (
        EVENTSOURCING_RESULTS
    )
    assert [result["name"] for result in suite["results"]] == list(EVENTSOURCING_RESULTS)
    for result in suite["results"]:
        assert result["unit"] == "events/s"
        assert result["description"]
        check_sample(result["caseflow"])
        check_sample(result["baseline"])
        assert result["ratio"] > 0
        assert result["passed"] is (result["ratio"] >= result["target"])
        assert result["notes"]
        assert f"eventsourcing: {result['name']}" in printed
    if not all(result["passed"] for result in suite["results"]):
        assert report["all_targets_passed"] is False
    details = suite["details"]
    library = details["library"]
    # The library as its users get it: its PostgreSQL application recorder, defaults.
    assert library["eventsourcing"] == version("eventsourcing")
    assert library["persistence_module"] == "eventsourcing.postgres"
    assert library["recorder"] == "PostgresApplicationRecorder"
    assert library["locks_table_per_insert"] is True
    assert library["snapshots"] is False
    assert library["aggregate_cache"] is False
    assert details["library_gap_safe"] is True
    # Both sides stored every event: the case, then warm-up and runs of each append figure.
    appended = sum(
        TINY["--es-warmup-events"] + REPEATS * TINY[flag]
        for flag in ("--es-single-events", "--es-batch-events")
    )
    assert details["events_stored_per_side"] == TINY["--es-replay-events"] + appended
    # The same facts on both sides: the library's state is the codec's data and metadata
    # plus its own framing (timestamp, type), not some smaller stand-in.
    ours, theirs = details["bytes_per_event"]["caseflow"], details["bytes_per_event"]["library"]
    assert (
        ours["data"] + ours["metadata"] < theirs["state"] < 1.5 * (ours["data"] + ours["metadata"])
    )


def test_all_runs_every_suite_and_excludes_only() -> None:
    options = bench_main.parser().parse_args(["--all"])
    assert list(bench_main.chosen_suites(options)) == [
        "store",
        "eventsourcing",
        "engine",
        "projector",
        "memory",
    ]
    options = bench_main.parser().parse_args([])
    assert list(bench_main.chosen_suites(options)) == ["store"]
    with pytest.raises(SystemExit):
        bench_main.parser().parse_args(["--all", "--only", "store"])


async def test_a_failing_suite_is_recorded_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[str] = []

    async def run_suite(
        name: str, server: Server, options: argparse.Namespace, log: object
    ) -> SuiteResult:
        ran.append(name)
        if name == "engine":
            raise RuntimeError("no Temporal")
        return SuiteResult(name, settings={})

    monkeypatch.setattr(bench_main, "run_suite", run_suite)
    options = bench_main.parser().parse_args(["--all"])
    failed: dict[str, str] = {}
    suites = await bench_main.run_suites(
        Server("postgresql://unused", "DATABASE_URL"), options, lambda _: None, failed
    )
    assert ran == list(bench_main.SUITES)
    assert [suite.name for suite in suites] == ["store", "eventsourcing", "projector", "memory"]
    assert failed == {"engine": "RuntimeError: no Temporal"}
    with pytest.raises(RuntimeError):
        await bench_main.run_suites(
            Server("postgresql://unused", "DATABASE_URL"), options, lambda _: None
        )


async def test_the_benchmark_leaves_no_database_behind(
    results: tuple[dict[str, Any], str], postgres_server_url: str
) -> None:
    assert await bench_databases(postgres_server_url) == []
