"""Shared setup of the admin console tests: the t_console test process deployed beside the real ones."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, TaskStatus
from app.operations import deploy
from tests.conftest import ROOT

CONSOLE = (ROOT / "tests" / "operations" / "data" / "t_console.bpmn").read_bytes()
DONE = {"findings": "已核实", "facts_confirmed": True}


def deploy_console(extra: dict[str, bytes] | None = None, note: str = "test") -> None:
    """Deploy processes/ and t_console (or a changed t_console, as a new version)."""
    processes, forms = deploy.read_directory(ROOT / "processes", ROOT / "forms")
    deploy.deploy_processes({**processes, "t_console.bpmn": CONSOLE, **(extra or {})}, forms, note=note)


def console_v2() -> bytes:
    """t_console with a new task ut_c between ut_a and its gateway."""
    text = CONSOLE.decode()
    text = text.replace('<bpmn:flowNodeRef>gw_route</bpmn:flowNodeRef>',
                        '<bpmn:flowNodeRef>ut_c</bpmn:flowNodeRef><bpmn:flowNodeRef>gw_route</bpmn:flowNodeRef>')
    text = text.replace('<bpmn:exclusiveGateway id="gw_route"',
                        '<bpmn:userTask id="ut_c" name="新增:登记核查结果"><bpmn:extensionElements>'
                        '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
                        'value="ut_investigate.schema.json"/></spiffworkflow:properties></bpmn:extensionElements>'
                        '</bpmn:userTask><bpmn:exclusiveGateway id="gw_route"')
    text = text.replace('<bpmn:sequenceFlow id="f_a_gw" sourceRef="ut_a" targetRef="gw_route"/>',
                        '<bpmn:sequenceFlow id="f_a_c" sourceRef="ut_a" targetRef="ut_c"/>'
                        '<bpmn:sequenceFlow id="f_c_gw" sourceRef="ut_c" targetRef="gw_route"/>')
    text = text.replace('name="核查情况"', 'name="核查情况(新版)"')
    return _without_di(text).encode()


def console_without_b() -> bytes:
    """t_console whose review task ut_b was removed (the gateway's review branch ends at once)."""
    text = CONSOLE.decode()
    start = text.index('<bpmn:userTask id="ut_b"')
    text = text[:start] + text[text.index("</bpmn:userTask>", start) + len("</bpmn:userTask>"):]
    text = text.replace('<bpmn:flowNodeRef>ut_b</bpmn:flowNodeRef>', "")
    text = text.replace('targetRef="ut_b"', 'targetRef="end_b"')
    text = text.replace('<bpmn:sequenceFlow id="f_b_end" sourceRef="ut_b" targetRef="end_b"/>', "")
    return _without_di(text).encode()


def _without_di(text: str) -> str:
    if "<bpmndi:BPMNDiagram" in text:
        text = text[:text.index("<bpmndi:BPMNDiagram")] + "</bpmn:definitions>\n"
    return text


def open_task(instance, spec_id: str) -> HumanTask | None:
    """The open human task of `spec_id` in `instance`."""
    return db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.spec_id == spec_id,
                                                     HumanTask.status == TaskStatus.OPEN))
