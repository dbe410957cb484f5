"""The simulators as a process and as a configuration: the `caseflow simulators` command, the
admin endpoint, the environment, and the generated world both systems share."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from caseflow.settings import Settings
from domain.child import age_on
from integrations.civil_affairs.client import CivilAffairsClient
from integrations.civil_affairs.models import HouseholdLookup
from integrations.civil_affairs.simulator import CivilAffairsSimulator
from integrations.school.client import SchoolClient
from integrations.school.models import EnrolmentLookup
from integrations.simulation.config import DecisionMode, SimulatorConfig, simulator_config
from integrations.simulation.world import World, id_number_check_digit
from integrations.simulators import build_simulators, serving
from tests.integrations.support import SEED, TIMEOUTS, Running

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_behaviour_is_changed_while_running(
    civil_affairs: Running[CivilAffairsSimulator],
) -> None:
    await civil_affairs.configure(failure_rate=0.25, decision_mode="late", late_after_polls=7)

    current = SimulatorConfig.model_validate_json(
        (await civil_affairs.admin.get("/_simulator/config")).content
    )
    invalid = await civil_affairs.admin.put("/_simulator/config", json={"failure_rate": 2})
    unknown = await civil_affairs.admin.put("/_simulator/config", json={"failure_ratio": 0.1})

    assert current.failure_rate == 0.25
    assert current.decision_mode is DecisionMode.late
    assert current.late_after_polls == 7
    assert civil_affairs.simulator.config == current
    assert invalid.status_code == 422
    assert unknown.status_code == 422


def test_the_configuration_comes_from_the_environment_and_flags(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CASEFLOW_SIMULATOR_FAILURE_RATE", "0.3")
    monkeypatch.setenv("CASEFLOW_SIMULATOR_DECISION_MODE", "deny")
    monkeypatch.setenv("CASEFLOW_SIMULATOR_SEED", "from-env")

    config = simulator_config(decision_mode="late", latency_ms=None)

    assert config.failure_rate == 0.3
    assert config.decision_mode is DecisionMode.late
    assert config.seed == "from-env"
    assert config.latency_ms == 0


def test_the_generated_world_is_the_same_for_one_seed() -> None:
    one, same, other = World(SEED), World(SEED), World("another seed")

    assert one.children == same.children
    assert [c.id_number for c in one.children] != [c.id_number for c in other.children]
    assert len({child.id_number for child in one.children}) == len(one)
    for child in one.children:
        assert child.id_number[17] == id_number_check_digit(child.id_number[:17])
        assert child.id_number[:6] == child.county
        assert 0 <= age_on(child.identity.date_of_birth, one.today) < 18


async def test_both_simulators_of_one_process_agree_about_a_child() -> None:
    civil_affairs, school = build_simulators(SimulatorConfig(seed=SEED))
    case_reference = "engine-case-1"  # a child only the engine knows: generated on first sight
    async with (
        serving(civil_affairs.app) as civil_affairs_url,
        serving(school.app) as school_url,
        CivilAffairsClient(civil_affairs_url, timeouts=TIMEOUTS) as civil_affairs_client,
        SchoolClient(school_url, timeouts=TIMEOUTS) as school_client,
    ):
        registration = await civil_affairs_client.look_up_household(
            HouseholdLookup(village="360731101201", case_reference=case_reference)
        )
        enrolment = await school_client.enrolment(
            EnrolmentLookup(village="360731101201", case_reference=case_reference)
        )

    assert civil_affairs.world is school.world
    child = civil_affairs.world.find(
        village=None, id_number=None, case_reference=case_reference, derive=False
    )
    assert child is not None
    assert registration.household_number == child.household_number
    assert enrolment.status is child.school.status


def test_settings_point_at_the_simulators_unless_told_otherwise() -> None:
    embedded = Settings(civil_affairs_simulator_port=9101, school_simulator_port=9102)
    outside = Settings(
        civil_affairs_url="https://civil-affairs.example",
        school_system_url="https://school.example",
    )

    assert embedded.embedded_simulators
    assert embedded.resolved_civil_affairs_url == "http://127.0.0.1:9101"
    assert embedded.resolved_school_system_url == "http://127.0.0.1:9102"
    assert not outside.embedded_simulators
    assert outside.resolved_civil_affairs_url == "https://civil-affairs.example"


def test_the_simulators_command_serves_both_and_stops_on_sigterm() -> None:
    civil_affairs_port, school_port = free_port(), free_port()
    environment = {
        **os.environ,
        "CASEFLOW_CIVIL_AFFAIRS_SIMULATOR_PORT": str(civil_affairs_port),
        "CASEFLOW_SCHOOL_SIMULATOR_PORT": str(school_port),
        "CASEFLOW_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "workers", "simulators", "--decision-mode", "deny"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        answers = {}
        deadline = time.monotonic() + 30
        for port in (civil_affairs_port, school_port):
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    answers[port] = httpx.get(
                        f"http://127.0.0.1:{port}/_simulator/config", timeout=1
                    ).json()
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        assert process.stderr is not None
        errors = process.stderr.read().decode()
        process.stderr.close()

    assert answers[civil_affairs_port]["decision_mode"] == "deny", errors
    assert answers[school_port]["decision_mode"] == "deny", errors
    assert exit_code == 0, errors
