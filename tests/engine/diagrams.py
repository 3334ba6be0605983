"""Small string templates that build BPMN and DMN test diagrams (engine tests only).

`process(...)` wraps flow nodes in a process with one lane that carries roles through
`spiffworkflow:property name="roles"`; `definitions(...)` wraps processes (and messages) in a
BPMN definitions element with the spiffworkflow namespace. Flow nodes omit incoming/outgoing
tags: SpiffWorkflow connects them from the sequence flows.
"""

from __future__ import annotations

import re
from html import escape
from itertools import pairwise
from pathlib import Path

from app.engine.definitions import compile_bundle
from app.engine.state import LoadedSpec, load_spec

DATA = Path(__file__).parent / "data"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"
FORM = "ut.schema.json"
_FLOW_NODE = re.compile(r'<bpmn:(?!sequenceFlow|message\b|laneSet|lane\b)(\w+) id="([^"]+)"')


def definitions(*processes: str, messages: tuple[str, ...] = ()) -> bytes:
    """A BPMN definitions document with the given processes and message names."""
    message_xml = "".join(f'<bpmn:message id="Message_{m}" name="{m}"/>' for m in messages)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:spiffworkflow="{SPIFF_NS}" '
        'id="Defs" targetNamespace="http://yuqing.local/test">'
        f"{message_xml}{''.join(processes)}</bpmn:definitions>"
    ).encode()


def process(*nodes: str, pid: str = "p", roles: str | None = "office_staff", lane: bool = True,
            executable: bool = True) -> str:
    """A process; with `lane`, every flow node sits in one lane whose roles are `roles`."""
    body = "".join(nodes)
    lane_xml = ""
    if lane:
        refs = "".join(f"<bpmn:flowNodeRef>{node_id}</bpmn:flowNodeRef>"
                       for _, node_id in _FLOW_NODE.findall(body))
        props = (f'<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="roles" '
                 f'value="{roles}"/></spiffworkflow:properties></bpmn:extensionElements>') if roles else ""
        lane_xml = (f'<bpmn:laneSet id="LaneSet_{pid}"><bpmn:lane id="Lane_{pid}" name="办公室">'
                    f"{props}{refs}</bpmn:lane></bpmn:laneSet>")
    flag = "true" if executable else "false"
    return f'<bpmn:process id="{pid}" name="{pid}" isExecutable="{flag}">{lane_xml}{body}</bpmn:process>'


def bundle(*nodes: str, name: str = "p.bpmn", messages: tuple[str, ...] = (), **kwargs: object) -> dict[str, bytes]:
    """{file name: bytes} holding one process built from `nodes`."""
    return {name: definitions(process(*nodes, **kwargs), messages=messages)}  # type: ignore[arg-type]


def load(files: dict[str, bytes], pid: str = "p", **kwargs: object) -> LoadedSpec:
    """Compile `files` and load the spec of process `pid` (a fresh cache key per content)."""
    compiled = compile_bundle(files, **kwargs)[pid]  # type: ignore[arg-type]
    return load_spec(f"test:{compiled.content_hash}:{pid}", compiled.spec_json)


# -- flow nodes -----------------------------------------------------------------------------------


def start(node_id: str = "start") -> str:
    return f'<bpmn:startEvent id="{node_id}"/>'


def end(node_id: str = "end") -> str:
    return f'<bpmn:endEvent id="{node_id}"/>'


def flow(source: str, target: str, condition: str | None = None, flow_id: str | None = None) -> str:
    flow_id = flow_id or f"f_{source}_{target}"
    cond = f"<bpmn:conditionExpression>{escape(condition, quote=False)}</bpmn:conditionExpression>" if condition else ""
    return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">{cond}</bpmn:sequenceFlow>'


def chain(*node_ids: str) -> str:
    """Unconditional flows from each node to the next."""
    return "".join(flow(a, b) for a, b in pairwise(node_ids))


def user_task(node_id: str, form: str | None = FORM, extra_props: str = "") -> str:
    prop = f'<spiffworkflow:property name="formJsonSchemaFilename" value="{form}"/>' if form else ""
    return (f'<bpmn:userTask id="{node_id}" name="{node_id}"><bpmn:extensionElements><spiffworkflow:properties>'
            f"{prop}{extra_props}</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>")


def script_task(node_id: str, script: str) -> str:
    return f'<bpmn:scriptTask id="{node_id}"><bpmn:script>{escape(script, quote=False)}</bpmn:script></bpmn:scriptTask>'


def multi_instance_script(node_id: str, script: str, cardinality: str, sequential: bool = False) -> str:
    seq = "true" if sequential else "false"
    return (f'<bpmn:scriptTask id="{node_id}"><bpmn:multiInstanceLoopCharacteristics isSequential="{seq}">'
            f"<bpmn:loopCardinality>{escape(cardinality, quote=False)}</bpmn:loopCardinality>"
            f"</bpmn:multiInstanceLoopCharacteristics><bpmn:script>{escape(script, quote=False)}</bpmn:script>"
            "</bpmn:scriptTask>")


def service_task(node_id: str, operator: str = "notify", params: dict[str, str] | None = None) -> str:
    if params is None:
        params = {"template": '"quick_report"', "recipients": '["office_director"]'}
    param_xml = "".join(f'<spiffworkflow:parameter id="{name}" type="any" value="{escape(value)}"/>'
                        for name, value in params.items())
    return (f'<bpmn:serviceTask id="{node_id}"><bpmn:extensionElements>'
            f'<spiffworkflow:serviceTaskOperator id="{operator}"><spiffworkflow:parameters>{param_xml}'
            "</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>"
            "</bpmn:serviceTask>")


def gateway(node_id: str, kind: str = "exclusive", documentation: str | None = None) -> str:
    doc = f"<bpmn:documentation>{escape(documentation)}</bpmn:documentation>" if documentation else ""
    return f'<bpmn:{kind}Gateway id="{node_id}">{doc}</bpmn:{kind}Gateway>'


def timer_definition(kind: str, value: str) -> str:
    """kind: timeDate, timeDuration or timeCycle."""
    text = escape(value, quote=False)
    return f"<bpmn:timerEventDefinition><bpmn:{kind}>{text}</bpmn:{kind}></bpmn:timerEventDefinition>"


def timer_catch(node_id: str, kind: str, value: str) -> str:
    return f'<bpmn:intermediateCatchEvent id="{node_id}">{timer_definition(kind, value)}</bpmn:intermediateCatchEvent>'


def timer_boundary(node_id: str, attached_to: str, kind: str, value: str, interrupting: bool = True) -> str:
    cancel = "true" if interrupting else "false"
    return (f'<bpmn:boundaryEvent id="{node_id}" attachedToRef="{attached_to}" cancelActivity="{cancel}">'
            f"{timer_definition(kind, value)}</bpmn:boundaryEvent>")


def message_catch(node_id: str, message: str, variable: str | None = None) -> str:
    var = (f"<bpmn:extensionElements><spiffworkflow:messageVariable>{variable}</spiffworkflow:messageVariable>"
           "</bpmn:extensionElements>") if variable else ""
    return (f'<bpmn:intermediateCatchEvent id="{node_id}"><bpmn:messageEventDefinition messageRef="Message_{message}">'
            f"{var}</bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>")


def business_rule(node_id: str, decision_id: str) -> str:
    return (f'<bpmn:businessRuleTask id="{node_id}"><bpmn:extensionElements><spiffworkflow:calledDecisionId>'
            f"{decision_id}</spiffworkflow:calledDecisionId></bpmn:extensionElements></bpmn:businessRuleTask>")


# -- DMN ------------------------------------------------------------------------------------------


def dmn(decision_id: str, inputs: list[str], outputs: list[str], rules: list[tuple[list[str], list[str]]],
        hit_policy: str = "COLLECT") -> bytes:
    """A decision table; `rules` are (input cells, output cells). Cell text is escaped here."""
    input_xml = "".join(
        f'<input id="in_{i}" label="in_{i}"><inputExpression id="ie_{i}" typeRef="string">'
        f"<text>{escape(expr, quote=False)}</text></inputExpression></input>"
        for i, expr in enumerate(inputs)
    )
    output_xml = "".join(f'<output id="out_{i}" name="{name}" typeRef="string"/>' for i, name in enumerate(outputs))
    rule_xml = ""
    for r, (cells_in, cells_out) in enumerate(rules):
        entries = "".join(f'<inputEntry id="r{r}i{i}"><text>{escape(c, quote=False)}</text></inputEntry>'
                          for i, c in enumerate(cells_in))
        entries += "".join(f'<outputEntry id="r{r}o{i}"><text>{escape(c, quote=False)}</text></outputEntry>'
                           for i, c in enumerate(cells_out))
        rule_xml += f'<rule id="rule_{r}">{entries}</rule>'
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{DMN_NS}" id="Defs_{decision_id}" '
        f'name="d" namespace="http://yuqing.local/test"><decision id="{decision_id}" name="{decision_id}">'
        f'<decisionTable id="DT_{decision_id}" hitPolicy="{hit_policy}">{input_xml}{output_xml}{rule_xml}'
        "</decisionTable></decision></definitions>"
    ).encode()


def fixture_files() -> dict[str, bytes]:
    """The shared simple.bpmn + t_grade.dmn fixtures."""
    return {name: (DATA / name).read_bytes() for name in ("simple.bpmn", "t_grade.dmn")}
