import asyncio
import httpx
from domain.commands import ApplyForRecognition
from integrations.simulation.config import SimulatorConfig
from tests.workflows.timeskip import TimeSkippingEngine, a_report, timeskip_fixture, types_of  # noqa: F401
import tests.workflows.timeskip as ts


async def test_probe(timeskip: TimeSkippingEngine) -> None:
    pass


async def test_probe_approve(database_url, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(ts, "SIMULATOR_CONFIG", SimulatorConfig(seed="x"))
    async with ts.time_skipping_engine(database_url, tmp_path) as engine:
        opened = await engine.open_case(a_report())
        await engine.send(opened.case_id, ApplyForRecognition())
        await asyncio.sleep(5)
        print(types_of(await engine.events(opened.case_id)))
        from workflows.recognition import recognition_workflow_id
        st = await engine.state(opened.case_id)
        h = engine.client.get_workflow_handle(recognition_workflow_id(opened.case_id, st.recognition.application_id))
        print((await h.describe()).status)
