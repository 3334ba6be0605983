"""Tests for tools/bpmn_layout.py, the BPMN DI generator for hand-written process files."""

from __future__ import annotations

import importlib.util
import sys
from itertools import pairwise
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

TOOL_PATH = Path(__file__).resolve().parents[2] / "tools" / "bpmn_layout.py"


def _load_tool():
    spec = importlib.util.spec_from_file_location("bpmn_layout_tool", TOOL_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bl = _load_tool()

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
FLOW_NODE_TAGS = sorted(bl.KIND_BY_TAG)
TASK_SIZE = (100, 80)

# Two lanes' worth of semantics only: lanes, a boundary timer, a loop, a call activity,
# exclusive gateways, a flow skipping a column and a second process without lanes.
INCIDENT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="Definitions_yq" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="incident_response" name="舆情应急处置" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_monitor" name="监测员">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>report</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>notify</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_leader" name="值班领导">
        <bpmn:flowNodeRef>review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>timeout</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>decision</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>escalate</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>need_sign</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>countersign</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>merge</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_system" name="系统">
        <bpmn:flowNodeRef>dispose</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>archive</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_escalated</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="发现舆情"/>
    <bpmn:userTask id="report" name="填写舆情报告">
      <bpmn:extensionElements>
        <spiffworkflow:instructionsForEndUser>请填写 &lt;报告&gt;</spiffworkflow:instructionsForEndUser>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="review" name="领导审核"/>
    <bpmn:boundaryEvent id="timeout" name="超时2小时" attachedToRef="review" cancelActivity="true">
      <bpmn:timerEventDefinition id="TimerDef_1">
        <bpmn:timeDuration>"PT2H"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:exclusiveGateway id="decision" name="是否通过？" default="flow_reject"/>
    <bpmn:exclusiveGateway id="need_sign" name="需要会签？" default="flow_no_sign"/>
    <bpmn:userTask id="countersign" name="会签"/>
    <bpmn:exclusiveGateway id="merge"/>
    <bpmn:callActivity id="dispose" name="处置" calledElement="dispose_process"/>
    <bpmn:scriptTask id="archive" name="归档">
      <bpmn:script>archived = True</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end" name="结束"/>
    <bpmn:manualTask id="escalate" name="上报上级"/>
    <bpmn:serviceTask id="notify" name="通知">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="notify_leaders" resultVariable="notified">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="channel" type="str" value="'sms'"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end_escalated" name="已上报"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="report"/>
    <bpmn:sequenceFlow id="f2" sourceRef="report" targetRef="review"/>
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="decision"/>
    <bpmn:sequenceFlow id="flow_ok" name="通过" sourceRef="decision" targetRef="need_sign">
      <bpmn:conditionExpression>approved == True</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="flow_reject" name="退回" sourceRef="decision" targetRef="report"/>
    <bpmn:sequenceFlow id="flow_sign" name="是" sourceRef="need_sign" targetRef="countersign">
      <bpmn:conditionExpression>sign == True</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="flow_no_sign" name="否" sourceRef="need_sign" targetRef="merge"/>
    <bpmn:sequenceFlow id="f4" sourceRef="countersign" targetRef="merge"/>
    <bpmn:sequenceFlow id="f5" sourceRef="merge" targetRef="dispose"/>
    <bpmn:sequenceFlow id="f6" sourceRef="dispose" targetRef="archive"/>
    <bpmn:sequenceFlow id="f7" sourceRef="archive" targetRef="end"/>
    <bpmn:sequenceFlow id="f8" sourceRef="timeout" targetRef="escalate"/>
    <bpmn:sequenceFlow id="f9" sourceRef="escalate" targetRef="notify"/>
    <bpmn:sequenceFlow id="f10" sourceRef="notify" targetRef="end_escalated"/>
  </bpmn:process>
  <bpmn:process id="dispose_process" name="处置子流程" isExecutable="true">
    <bpmn:startEvent id="sub_start"/>
    <bpmn:manualTask id="sub_task" name="执行处置"/>
    <bpmn:endEvent id="sub_end"/>
    <bpmn:sequenceFlow id="sf1" sourceRef="sub_start" targetRef="sub_task"/>
    <bpmn:sequenceFlow id="sf2" sourceRef="sub_task" targetRef="sub_end"/>
  </bpmn:process>
</bpmn:definitions>
"""

# Nested lanes, a node outside every lane, an embedded sub-process with a self loop inside,
# several boundary events on one task and a pre-existing, stale diagram.
NESTED = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:omgdc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:omgdi="http://www.omg.org/spec/DD/20100524/DI"
    id="Definitions_nested" targetNamespace="http://example.org/nested">
  <process id="nested" isExecutable="false">
    <laneSet id="ls">
      <lane id="dept" name="部门">
        <flowNodeRef>s</flowNodeRef>
        <flowNodeRef>a</flowNodeRef>
        <flowNodeRef>b</flowNodeRef>
        <childLaneSet id="dept_children">
          <lane id="clerk" name="科员">
            <flowNodeRef>s</flowNodeRef>
            <flowNodeRef>a</flowNodeRef>
          </lane>
          <lane id="chief" name="科长">
            <flowNodeRef>b</flowNodeRef>
          </lane>
        </childLaneSet>
      </lane>
      <lane id="ops" name="运维">
        <flowNodeRef>sub</flowNodeRef>
        <flowNodeRef>join</flowNodeRef>
      </lane>
    </laneSet>
    <startEvent id="s"/>
    <task id="a" name="A"/>
    <boundaryEvent id="a_err" name="出错" attachedToRef="a"><errorEventDefinition/></boundaryEvent>
    <boundaryEvent id="a_msg" attachedToRef="a" cancelActivity="false">
      <messageEventDefinition/>
    </boundaryEvent>
    <parallelGateway id="fork"/>
    <task id="b" name="B"/>
    <subProcess id="sub" name="子流程">
      <startEvent id="sub_s"/>
      <task id="sub_t" name="重试"/>
      <endEvent id="sub_e"/>
      <sequenceFlow id="sub_f1" sourceRef="sub_s" targetRef="sub_t"/>
      <sequenceFlow id="sub_loop" sourceRef="sub_t" targetRef="sub_t"/>
      <sequenceFlow id="sub_f2" sourceRef="sub_t" targetRef="sub_e"/>
    </subProcess>
    <parallelGateway id="join"/>
    <endEvent id="e"/>
    <sequenceFlow id="n1" sourceRef="s" targetRef="a"/>
    <sequenceFlow id="n2" sourceRef="a" targetRef="fork"/>
    <sequenceFlow id="n3" sourceRef="fork" targetRef="b"/>
    <sequenceFlow id="n4" sourceRef="fork" targetRef="sub"/>
    <sequenceFlow id="n5" sourceRef="b" targetRef="join"/>
    <sequenceFlow id="n6" sourceRef="sub" targetRef="join"/>
    <sequenceFlow id="n7" sourceRef="join" targetRef="e"/>
    <sequenceFlow id="n8" sourceRef="a_err" targetRef="e"/>
    <sequenceFlow id="n9" sourceRef="a_msg" targetRef="a"/>
  </process>
  <bpmndi:BPMNDiagram id="Old">
    <bpmndi:BPMNPlane id="OldPlane" bpmnElement="nested">
      <bpmndi:BPMNShape id="gone_di" bpmnElement="gone">
        <omgdc:Bounds x="1" y="2" width="3" height="4"/>
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</definitions>
"""

# A collaboration written by the author: two pools and a message flow, reused as written.
COLLABORATION = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="Definitions_collab" targetNamespace="http://example.org/collab">
  <bpmn:collaboration id="Talk">
    <bpmn:participant id="P_a" name="甲方" processRef="proc_a"/>
    <bpmn:participant id="P_b" name="乙方" processRef="proc_b"/>
    <bpmn:participant id="P_ext" name="外部系统"/>
    <bpmn:messageFlow id="m1" sourceRef="send" targetRef="receive"/>
    <bpmn:messageFlow id="m2" sourceRef="receive" targetRef="P_ext"/>
  </bpmn:collaboration>
  <bpmn:process id="proc_a" isExecutable="true">
    <bpmn:startEvent id="a_start"/>
    <bpmn:sendTask id="send" name="发送"/>
    <bpmn:endEvent id="a_end"/>
    <bpmn:sequenceFlow id="a1" sourceRef="a_start" targetRef="send"/>
    <bpmn:sequenceFlow id="a2" sourceRef="send" targetRef="a_end"/>
  </bpmn:process>
  <bpmn:process id="proc_b" isExecutable="false">
    <bpmn:startEvent id="receive"><bpmn:messageEventDefinition/></bpmn:startEvent>
    <bpmn:endEvent id="b_end"/>
    <bpmn:sequenceFlow id="b1" sourceRef="receive" targetRef="b_end"/>
  </bpmn:process>
</bpmn:definitions>
"""


# --------------------------------------------------------------------------- helpers


def _write(tmp_path: Path, text: str, name: str = "process.bpmn") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _laid_out(tmp_path: Path, text: str) -> tuple[Path, etree._Element]:
    path = _write(tmp_path, text)
    assert bl.main([str(path)]) == 0
    return path, etree.fromstring(path.read_bytes())


def _bounds(element: etree._Element) -> tuple[int, int, int, int]:
    bounds = element.find("dc:Bounds", NS)
    return tuple(int(float(bounds.get(key))) for key in ("x", "y", "width", "height"))


def _shapes(root: etree._Element) -> dict[str, list[tuple[int, int, int, int]]]:
    shapes: dict[str, list] = {}
    for shape in root.iterfind(".//bpmndi:BPMNShape", NS):
        shapes.setdefault(shape.get("bpmnElement"), []).append(_bounds(shape))
    return shapes


def _edges(root: etree._Element) -> dict[str, list[list[tuple[int, int]]]]:
    edges: dict[str, list] = {}
    for edge in root.iterfind(".//bpmndi:BPMNEdge", NS):
        points = [(int(float(p.get("x"))), int(float(p.get("y")))) for p in edge.iterfind("di:waypoint", NS)]
        edges.setdefault(edge.get("bpmnElement"), []).append(points)
    return edges


def _ids(root: etree._Element, *tags: str) -> list[str]:
    return [el.get("id") for tag in tags for el in root.iterfind(f".//bpmn:{tag}", NS)]


def _overlap(a, b) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _contains(outer, inner) -> bool:
    ox, oy, ow, oh = outer
    ix, iy, iw, ih = inner
    return ox <= ix and oy <= iy and ix + iw <= ox + ow and iy + ih <= oy + oh


def _segment_enters(p, q, box) -> bool:
    """True when the axis-parallel segment p-q passes through the interior of box."""
    x, y, w, h = box
    if p[1] == q[1]:
        return y < p[1] < y + h and max(min(p[0], q[0]), x) < min(max(p[0], q[0]), x + w)
    return x < p[0] < x + w and max(min(p[1], q[1]), y) < min(max(p[1], q[1]), y + h)


def _plane_of(root: etree._Element, element_id: str) -> etree._Element:
    return root.find(f".//bpmndi:BPMNPlane[@bpmnElement='{element_id}']", NS)


# --------------------------------------------------------------------------- CLI and file handling


def test_check_fails_without_di_and_passes_after_layout(tmp_path, capsys):
    path = _write(tmp_path, INCIDENT)
    assert bl.main(["--check", str(path)]) == 1
    assert "no diagram interchange" in capsys.readouterr().out
    assert bl.main([str(path)]) == 0
    assert bl.main(["--check", str(path)]) == 0


def test_check_detects_stale_di(tmp_path, capsys):
    path, root = _laid_out(tmp_path, INCIDENT)
    shape = root.find(".//bpmndi:BPMNShape[@bpmnElement='review']", NS)
    plane = shape.getparent()
    plane.remove(shape)
    extra = etree.SubElement(plane, f"{{{NS['bpmndi']}}}BPMNShape", id="ghost_di", bpmnElement="ghost")
    etree.SubElement(extra, f"{{{NS['dc']}}}Bounds", x="0", y="0", width="10", height="10")
    path.write_bytes(etree.tostring(root))
    assert bl.main(["--check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "userTask review has no shape or edge" in out
    assert "missing element ghost" in out
    assert bl.main([str(path)]) == 0
    assert bl.main(["--check", str(path)]) == 0


def test_check_flags_lanes_outside_a_pool(tmp_path, capsys):
    path, root = _laid_out(tmp_path, INCIDENT)
    collaboration = root.find("bpmn:collaboration", NS)
    root.remove(collaboration)
    root.remove(root.find("bpmndi:BPMNDiagram", NS))
    path.write_bytes(etree.tostring(root))
    assert bl.main(["--check", str(path)]) == 1
    assert "has lanes but no pool" in capsys.readouterr().out


def test_output_option_leaves_input_untouched(tmp_path):
    source = _write(tmp_path, INCIDENT)
    target = tmp_path / "out.bpmn"
    assert bl.main([str(source), "-o", str(target)]) == 0
    assert source.read_text(encoding="utf-8") == INCIDENT
    assert bl.main(["--check", str(target)]) == 0


def test_unparseable_file_is_reported(tmp_path, capsys):
    path = _write(tmp_path, "<bpmn:definitions")
    assert bl.main([str(path)]) == 2
    assert str(path) in capsys.readouterr().err


def test_external_entities_are_refused(tmp_path, capsys):
    secret = _write(tmp_path, "TOP-SECRET", "secret.txt")
    doctype = f'<!DOCTYPE bpmn:definitions [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n'
    for placement in ("archived = True", 'name="归档"'):
        replacement = "&xxe;" if placement.startswith("archived") else 'name="&xxe;"'
        text = INCIDENT.replace(placement, replacement).replace("\n", "\n" + doctype, 1)
        path = _write(tmp_path, text)
        assert bl.main([str(path)]) == 2
        assert path.read_text(encoding="utf-8") == text
        assert "TOP-SECRET" not in capsys.readouterr().err


# --------------------------------------------------------------------------- output format and content


def test_output_is_idempotent_and_deterministic(tmp_path):
    first, _ = _laid_out(tmp_path, INCIDENT)
    once = first.read_bytes()
    assert bl.main([str(first)]) == 0
    assert first.read_bytes() == once
    other = _write(tmp_path, INCIDENT, "again.bpmn")
    assert bl.main([str(other)]) == 0
    assert other.read_bytes() == once


@pytest.mark.parametrize("text", [NESTED, COLLABORATION])
def test_other_documents_are_idempotent_and_checked(tmp_path, text):
    path, _ = _laid_out(tmp_path, text)
    once = path.read_bytes()
    assert bl.main([str(path)]) == 0
    assert path.read_bytes() == once
    assert bl.main(["--check", str(path)]) == 0


def test_output_format(tmp_path):
    path, _ = _laid_out(tmp_path, INCIDENT)
    data = path.read_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions ')
    assert "舆情应急处置".encode() in data
    assert b"&#" not in data
    lines = data.decode("utf-8").splitlines()
    assert lines[2].startswith("  <bpmn:collaboration ")
    assert lines[3].startswith("    <bpmn:participant ")
    assert all((len(line) - len(line.lstrip(" "))) % 2 == 0 for line in lines)


def test_semantics_and_namespaces_are_kept(tmp_path):
    blank_free = etree.XMLParser(remove_blank_text=True)
    before = etree.fromstring(INCIDENT.encode(), blank_free)
    path, _ = _laid_out(tmp_path, INCIDENT)
    after = etree.fromstring(path.read_bytes(), blank_free)
    for process_id in ("incident_response", "dispose_process"):
        old = before.find(f"bpmn:process[@id='{process_id}']", NS)
        new = after.find(f"bpmn:process[@id='{process_id}']", NS)
        canonical = {"method": "c14n", "exclusive": True}
        assert etree.tostring(new, **canonical) == etree.tostring(old, **canonical)
        assert new.get("isExecutable") == "true"
    assert dict(after.attrib) == dict(before.attrib)
    assert after.nsmap == {**before.nsmap, "bpmndi": NS["bpmndi"], "dc": NS["dc"], "di": NS["di"]}
    assert after.find(".//spiffworkflow:instructionsForEndUser", NS).text == "请填写 <报告>"


def test_existing_prefixes_are_reused_and_old_diagrams_dropped(tmp_path):
    path, root = _laid_out(tmp_path, NESTED)
    data = path.read_bytes()
    assert root.nsmap == etree.fromstring(NESTED.encode()).nsmap
    assert b"<omgdc:Bounds" in data
    assert b"<omgdi:waypoint" in data
    assert root.find(".//bpmndi:BPMNDiagram[@id='Old']", NS) is None
    assert "gone" not in _shapes(root)


# --------------------------------------------------------------------------- pools, lanes and planes


def test_lanes_are_drawn_in_a_generated_pool(tmp_path):
    _, root = _laid_out(tmp_path, INCIDENT)
    children = [child.tag.split("}")[1] for child in root]
    assert children == ["collaboration", "process", "process", "BPMNDiagram", "BPMNDiagram"]
    participant = root.find("bpmn:collaboration[@id='Collaboration_incident_response']/bpmn:participant", NS)
    assert dict(participant.attrib) == {
        "id": "Participant_incident_response",
        "name": "舆情应急处置",
        "processRef": "incident_response",
    }
    assert _plane_of(root, "Collaboration_incident_response") is not None
    assert _plane_of(root, "dispose_process") is not None
    pool = root.find(".//bpmndi:BPMNShape[@bpmnElement='Participant_incident_response']", NS)
    assert pool.get("isHorizontal") == "true"
    for lane in root.iterfind(".//bpmndi:BPMNShape", NS):
        if lane.get("bpmnElement").startswith("Lane_"):
            assert lane.get("isHorizontal") == "true"


def test_pool_contains_lanes_and_nodes(tmp_path):
    _, root = _laid_out(tmp_path, INCIDENT)
    shapes = _shapes(root)
    pool = shapes["Participant_incident_response"][0]
    lanes = [shapes[lane][0] for lane in ("Lane_monitor", "Lane_leader", "Lane_system")]
    process = root.find("bpmn:process[@id='incident_response']", NS)
    for element_id in _ids(process, *FLOW_NODE_TAGS):
        assert _contains(pool, shapes[element_id][0]), element_id
    for lane in lanes:
        assert _contains(pool, lane)
    for upper, lower in pairwise(lanes):
        assert upper[1] + upper[3] == lower[1]
    assert lanes[0][1] == pool[1]
    assert lanes[-1][1] + lanes[-1][3] == pool[1] + pool[3]


def test_nodes_sit_in_their_lane(tmp_path):
    _, root = _laid_out(tmp_path, INCIDENT)
    shapes = _shapes(root)
    for lane in root.iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            if ref.text != "timeout":  # boundary events straddle their host's border
                assert _contains(shapes[lane.get("id")][0], shapes[ref.text][0]), ref.text


def test_nested_lanes_and_unassigned_nodes(tmp_path):
    _, root = _laid_out(tmp_path, NESTED)
    shapes = _shapes(root)
    pool = shapes["Participant_nested"][0]
    dept, clerk, chief = shapes["dept"][0], shapes["clerk"][0], shapes["chief"][0]
    assert _contains(dept, clerk)
    assert _contains(dept, chief)
    assert clerk[0] > dept[0]
    assert _contains(clerk, shapes["a"][0])
    assert _contains(chief, shapes["b"][0])
    for node in ("fork", "e"):  # in no lane: drawn in the pool, below the lanes
        assert _contains(pool, shapes[node][0])
        assert shapes[node][0][1] >= shapes["ops"][0][1] + shapes["ops"][0][3]


def test_user_collaboration_is_reused(tmp_path):
    _, root = _laid_out(tmp_path, COLLABORATION)
    assert [c.get("id") for c in root.iterfind("bpmn:collaboration", NS)] == ["Talk"]
    assert [p.get("bpmnElement") for p in root.iterfind(".//bpmndi:BPMNPlane", NS)] == ["Talk"]
    shapes, edges = _shapes(root), _edges(root)
    pools = [shapes[pool][0] for pool in ("P_a", "P_b", "P_ext")]
    for upper, lower in pairwise(pools):
        assert upper[1] + upper[3] < lower[1]
    assert _contains(pools[0], shapes["send"][0])
    assert _contains(pools[1], shapes["receive"][0])
    for flow in ("m1", "m2"):
        points = edges[flow][0]
        assert len(points) >= 2
        assert all(p[0] == q[0] or p[1] == q[1] for p, q in pairwise(points))


# --------------------------------------------------------------------------- shapes and edges


def test_every_flow_node_has_exactly_one_shape(tmp_path):
    _, root = _laid_out(tmp_path, INCIDENT)
    shapes = _shapes(root)
    for element_id in _ids(root, *FLOW_NODE_TAGS):
        assert len(shapes.get(element_id, [])) == 1, element_id
    sizes = {element_id: boxes[0][2:] for element_id, boxes in shapes.items()}
    assert sizes["review"] == TASK_SIZE
    assert sizes["dispose"] == TASK_SIZE
    assert sizes["start"] == (36, 36)
    assert sizes["decision"] == (50, 50)


@pytest.mark.parametrize("text", [INCIDENT, NESTED, COLLABORATION])
def test_every_sequence_flow_has_one_orthogonal_edge(tmp_path, text):
    _, root = _laid_out(tmp_path, text)
    edges = _edges(root)
    for flow_id in _ids(root, "sequenceFlow"):
        assert len(edges.get(flow_id, [])) == 1, flow_id
        points = edges[flow_id][0]
        assert len(points) >= 2, flow_id
        assert all(p[0] == q[0] or p[1] == q[1] for p, q in pairwise(points)), flow_id


def test_task_shapes_do_not_overlap(tmp_path):
    _, root = _laid_out(tmp_path, INCIDENT)
    for plane in root.iterfind(".//bpmndi:BPMNPlane", NS):
        boxes = [_bounds(shape) for shape in plane.iterfind("bpmndi:BPMNShape", NS)]
        tasks = [box for box in boxes if box[2:] == TASK_SIZE]
        for index, box in enumerate(tasks):
            assert not any(_overlap(box, other) for other in tasks[index + 1 :]), box


@pytest.mark.parametrize("text", [INCIDENT, NESTED])
def test_edges_do_not_cross_node_shapes(tmp_path, text):
    _, root = _laid_out(tmp_path, text)
    for plane in root.iterfind(".//bpmndi:BPMNPlane", NS):
        nodes = {
            shape.get("bpmnElement"): _bounds(shape)
            for shape in plane.iterfind("bpmndi:BPMNShape", NS)
            if shape.get("isHorizontal") != "true"
        }
        for edge in plane.iterfind("bpmndi:BPMNEdge", NS):
            points = [(int(p.get("x")), int(p.get("y"))) for p in edge.iterfind("di:waypoint", NS)]
            for p, q in pairwise(points):
                crossed = [node for node, box in nodes.items() if _segment_enters(p, q, box)]
                assert not crossed, (edge.get("bpmnElement"), p, q, crossed)


@pytest.mark.parametrize("text", [INCIDENT, NESTED])
def test_labels_cover_no_shape_and_no_other_label(tmp_path, text):
    _, root = _laid_out(tmp_path, text)
    shapes = {element_id: boxes[0] for element_id, boxes in _shapes(root).items()}
    nodes = {key: box for key, box in shapes.items() if key in _ids(root, *FLOW_NODE_TAGS)}
    labels = [
        (owner.get("bpmnElement"), _bounds(owner.find("bpmndi:BPMNLabel", NS)))
        for owner in root.iterfind(".//bpmndi:BPMNLabel/..", NS)
    ]
    assert labels
    for index, (owner, label) in enumerate(labels):
        assert not [key for key, box in nodes.items() if _overlap(label, box)], owner
        assert not [other for other, box in labels[index + 1 :] if _overlap(label, box)], owner


def test_event_and_gateway_labels_are_below_the_shape(tmp_path):
    _, root = _laid_out(tmp_path, INCIDENT)
    for element_id in ("start", "end", "decision", "need_sign"):
        shape = root.find(f".//bpmndi:BPMNShape[@bpmnElement='{element_id}']", NS)
        x, y, w, h = _bounds(shape)
        lx, ly, lw, _ = _bounds(shape.find("bpmndi:BPMNLabel", NS))
        assert ly >= y + h
        assert lx + lw // 2 == pytest.approx(x + w // 2, abs=1)
    merge = root.find(".//bpmndi:BPMNShape[@bpmnElement='merge']", NS)  # no name, no label
    assert merge.find("bpmndi:BPMNLabel", NS) is None
    assert merge.get("isMarkerVisible") == "true"


def test_ranks_follow_the_longest_path(tmp_path):
    _, root = _laid_out(tmp_path, INCIDENT)
    x = {element_id: boxes[0][0] + boxes[0][2] // 2 for element_id, boxes in _shapes(root).items()}
    chain = ["start", "report", "review", "decision", "need_sign", "countersign", "merge", "dispose"]
    assert all(x[a] < x[b] for a, b in pairwise(chain))
    assert x["merge"] - x["need_sign"] == 2 * bl.COL_W  # the longer branch wins


def test_boundary_event_sits_on_host_bottom(tmp_path):
    _, root = _laid_out(tmp_path, INCIDENT)
    shapes, edges = _shapes(root), _edges(root)
    hx, hy, hw, hh = shapes["review"][0]
    bx, by, bw, bh = shapes["timeout"][0]
    assert by + bh // 2 == hy + hh
    assert hx <= bx + bw // 2 <= hx + hw
    assert shapes["escalate"][0][0] > hx + hw  # target is at least one column to the right
    assert edges["f8"][0][0] == (bx + bw // 2, by + bh)  # leaves from the event's bottom


def test_several_boundary_events_are_spread(tmp_path):
    _, root = _laid_out(tmp_path, NESTED)
    shapes = _shapes(root)
    host = shapes["a"][0]
    centres = sorted(shapes[event][0][0] + 18 for event in ("a_err", "a_msg"))
    assert centres[0] != centres[1]
    assert all(host[0] < centre < host[0] + host[2] for centre in centres)


def test_loop_runs_below_the_nodes(tmp_path):
    _, root = _laid_out(tmp_path, INCIDENT)
    shapes, edges = _shapes(root), _edges(root)
    points = edges["flow_reject"][0]
    source, target = shapes["decision"][0], shapes["report"][0]
    lane = shapes["Lane_leader"][0]
    lowest = max(y for _, y in points)
    assert lowest > max(source[1] + source[3], target[1] + target[3])
    assert lowest < lane[1] + lane[3]
    assert points[-1] == (points[-2][0], target[1] + target[3])  # enters the target from below


def test_subprocess_is_collapsed_with_its_own_diagram(tmp_path):
    _, root = _laid_out(tmp_path, NESTED)
    sub = root.find(".//bpmndi:BPMNShape[@bpmnElement='sub']", NS)
    assert sub.get("isExpanded") == "false"
    plane = _plane_of(root, "sub")
    drawn = {shape.get("bpmnElement") for shape in plane}
    assert drawn == {"sub_s", "sub_t", "sub_e", "sub_f1", "sub_loop", "sub_f2"}
    assert len(_edges(root)["sub_loop"][0]) >= 4


# --------------------------------------------------------------------------- SpiffWorkflow


def test_spiffworkflow_parses_the_laid_out_file(tmp_path):
    path, _ = _laid_out(tmp_path, INCIDENT)
    root = etree.parse(str(path)).getroot()
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_xml(root, filename="x.bpmn")
    spec = parser.get_spec("incident_response")
    assert {"review", "timeout", "decision", "dispose", "archive"} <= set(spec.task_specs)
    assert spec.task_specs["review"].lane == "值班领导"
    assert "dispose_process" in parser.get_subprocess_specs("incident_response")


def test_each_laned_process_gets_its_own_pool(tmp_path):
    second = (
        INCIDENT.split("<bpmn:process ", 2)[1]
        .replace('id="incident_response"', 'id="second"')
        .replace('id="', 'id="x_')
        .replace('Ref="', 'Ref="x_')
        .replace('default="', 'default="x_')
        .replace("<bpmn:flowNodeRef>", "<bpmn:flowNodeRef>x_")
        .replace('calledElement="x_', 'calledElement="')
        .rsplit("</bpmn:process>", 1)[0]
    )
    text = INCIDENT.replace(
        "</bpmn:definitions>", f"<bpmn:process {second}</bpmn:process>\n</bpmn:definitions>"
    )
    path, root = _laid_out(tmp_path, text)
    collaborations = [c.get("id") for c in root.iterfind("bpmn:collaboration", NS)]
    assert collaborations == ["Collaboration_incident_response", "Collaboration_x_second"]
    planes = [p.get("bpmnElement") for p in root.iterfind(".//bpmndi:BPMNPlane", NS)]
    assert planes == ["Collaboration_incident_response", "dispose_process", "Collaboration_x_second"]
    assert bl.main(["--check", str(path)]) == 0
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_xml(etree.parse(str(path)).getroot(), filename="x.bpmn")
    assert "x_review" in parser.get_spec("x_second").task_specs
    assert "review" in parser.get_spec("incident_response").task_specs
