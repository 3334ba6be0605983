"""The process owners' studio: the workspace of BPMN, DMN and form files, drafts, validation with
problems per element, deploy with a change note. Versions and their diffs are in studio_history.py,
the editors' pickers and form preview in studio_editor.py, the index's search in studio_index.py.

The workspace (`workspace_file`) is the set of files the last deploys stored. Editing writes a
draft; running instances never see drafts. "Validate" runs exactly the deploy checks on the
workspace with every draft in it; "Deploy" stores new versions (only where content changed) and
turns the drafts into the workspace's content. A deploy from processes/ (`yuqing deploy`, `make
run`) replaces a workspace file only when the file on disk changed since the last deploy from disk,
so what process owners changed in the browser is not undone by the next start (decision 41).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import clock
from app.db import transaction
from app.engine import definitions
from app.extensions import db
from app.models import (
    AuditEvent,
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    User,
    WorkspaceFile,
)
from app.operations import deploy, problem_text
from app.operations.errors import DeployRefused, Forbidden, Invalid, NotFound

EDIT_ROLES = ("process_owner", "admin")
DEPLOY_ROLES = ("process_publisher", "admin")
FILE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,150}\.(bpmn|dmn|schema\.json|uischema\.json)$")
MAX_FILE_BYTES = 2 * 1024 * 1024
UNFINISHED = (InstanceStatus.RUNNING, InstanceStatus.WAITING, InstanceStatus.SUSPENDED, InstanceStatus.ERROR)


def can_edit(user: User) -> bool:
    """May the user change drafts (and validate them)?"""
    return bool(user.has_role(*EDIT_ROLES))


def can_deploy(user: User) -> bool:
    """May the user deploy the workspace as new versions?"""
    return bool(user.has_role(*DEPLOY_ROLES))


def _require(allowed: bool) -> None:
    if not allowed:
        raise Forbidden(str(_l("您没有此项权限。")))


def require_edit(actor: User) -> None:
    """Refuse who may not change drafts."""
    _require(can_edit(actor))


def check_name(name: str) -> None:
    """Refuse a workspace file name that is not one."""
    if not FILE_NAME.match(name or ""):
        raise Invalid(str(_l("文件名须为字母开头,以 .bpmn、.dmn、.schema.json 或 .uischema.json 结尾。")))


# -- deploy from disk ---------------------------------------------------------------------------


def deploy_from_disk(process_files: Mapping[str, bytes], form_files: Mapping[str, bytes], note: str
                     ) -> deploy.DeployResult:
    """Deploy processes/ and forms/ as `yuqing deploy` does, keeping the browser's changes to files
    the disk did not change since the last deploy from disk (and files made in the browser)."""
    disk = {**process_files, **form_files}
    hashes = {name: definitions.file_hash(content) for name, content in disk.items()}
    rows = {row.name: row for row in db.session.scalars(select(WorkspaceFile))}
    merged: dict[str, bytes] = {}
    for name, content in disk.items():
        row = rows.get(name)
        kept = row is not None and row.content is not None and row.disk_hash == hashes[name]
        merged[name] = row.content.encode() if kept else content
    for name, row in rows.items():
        if name not in disk and row.content is not None and row.disk_hash is None:
            merged[name] = row.content.encode()  # made in the browser, never on disk
    processes, forms_ = _split(merged)
    return deploy.deploy_processes(processes, forms_, note=note, source="cli", disk_hashes=hashes)


def _split(files: Mapping[str, bytes]) -> tuple[dict[str, bytes], dict[str, bytes]]:
    processes = {name: content for name, content in files.items() if deploy.file_kind(name) != "form"}
    forms_ = {name: content for name, content in files.items() if deploy.file_kind(name) == "form"}
    return processes, forms_


# -- the workspace ------------------------------------------------------------------------------


def list_files() -> list[WorkspaceFile]:
    """Every workspace file, processes first, then decisions, then forms, by name."""
    order = {"bpmn": 0, "dmn": 1, "form": 2}
    rows = list(db.session.scalars(select(WorkspaceFile)))
    return sorted(rows, key=lambda row: (order.get(row.kind, 3), row.name))


def get_file(name: str) -> WorkspaceFile:
    """One workspace file, else NotFound."""
    row = db.session.get(WorkspaceFile, name) if FILE_NAME.match(name or "") else None
    if row is None:
        raise NotFound(str(_l("文件不存在。")))
    return row


def checked_text(name: str, content: bytes | str) -> str:
    """The file's text, refused when too large, not UTF-8, or hostile XML."""
    data = content.encode() if isinstance(content, str) else content
    if len(data) > MAX_FILE_BYTES:
        raise Invalid(str(_l("文件过大(上限 2 MB)。")))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(str(_l("文件须为 UTF-8 编码。"))) from exc
    if "\x00" in text:  # no database text column can hold it
        raise Invalid(str(_l("文件中不能含有空字符(NUL)。")))
    if deploy.file_kind(name) in ("bpmn", "dmn"):
        # Hostile XML (DTD, entities, XInclude, oversize) is refused before anything is stored.
        refusal = problem_text.xml_refusal(data, name)
        if refusal:
            raise Invalid(refusal)
    elif (refusal := problem_text.json_refusal(data, name)) is not None:
        raise Invalid(refusal)  # a form file that is not JSON is refused the same way
    return text


def save_draft(name: str, content: bytes | str, actor: User, *, create: bool = False) -> WorkspaceFile:
    """Keep work in progress on a file (running instances are not affected)."""
    _require(can_edit(actor))
    check_name(name)
    text = checked_text(name, content)
    with transaction() as session:
        row = session.get(WorkspaceFile, name)
        if row is None:
            if not create:
                raise NotFound(str(_l("文件不存在。")))
            row = WorkspaceFile(name=name, kind=deploy.file_kind(name))
            session.add(row)
        row.draft, row.draft_by_id, row.draft_at = text, actor.id, clock.now()
        session.add(AuditEvent(actor_id=actor.id, action="draft_saved", detail={"file": name, "bytes": len(text)}))
        return row


NEW_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_{pid}" targetNamespace="http://yuqing.local/processes">
  <bpmn:collaboration id="Collaboration_{pid}">
    <bpmn:participant id="Participant_{pid}" name="{pid}" processRef="{pid}"/>
  </bpmn:collaboration>
  <bpmn:process id="{pid}" name="{pid}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_{pid}">
      <bpmn:lane id="Lane_{pid}" name="办公室">
        <bpmn:extensionElements><spiffworkflow:properties>
          <spiffworkflow:property name="roles" value="office_staff"/>
        </spiffworkflow:properties></bpmn:extensionElements>
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f_start_end" sourceRef="start" targetRef="end"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Diagram_{pid}">
    <bpmndi:BPMNPlane id="Plane_{pid}" bpmnElement="Collaboration_{pid}">
      <bpmndi:BPMNShape id="Participant_{pid}_di" bpmnElement="Participant_{pid}" isHorizontal="true">
        <dc:Bounds x="100" y="80" width="600" height="200"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Lane_{pid}_di" bpmnElement="Lane_{pid}" isHorizontal="true">
        <dc:Bounds x="130" y="80" width="570" height="200"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="200" y="162" width="36" height="36"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="end_di" bpmnElement="end"><dc:Bounds x="560" y="162" width="36" height="36"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f_start_end_di" bpmnElement="f_start_end">
        <di:waypoint x="236" y="180"/><di:waypoint x="560" y="180"/></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
NEW_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Definitions_{pid}" name="{pid}"
  namespace="http://yuqing.local/decisions">
  <decision id="{pid}" name="{pid}">
    <decisionTable id="DecisionTable_{pid}" hitPolicy="FIRST">
      <input id="Input_1" label="输入"><inputExpression id="InputExpression_1" typeRef="string"><text>value</text>
      </inputExpression></input>
      <output id="Output_1" label="结果" name="result" typeRef="string"/>
      <rule id="Rule_1"><inputEntry id="Rule_1_in1"><text></text></inputEntry>
        <outputEntry id="Rule_1_out1"><text>"default"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""
NEW_FORM = """{{
  "title": "{pid}",
  "type": "object",
  "additionalProperties": false,
  "required": ["note"],
  "properties": {{
    "note": {{"type": "string", "title": "办理意见", "maxLength": 2000}}
  }}
}}
"""
TEMPLATES = {"bpmn": NEW_BPMN, "dmn": NEW_DMN, "form": NEW_FORM}


def new_file(name: str, actor: User) -> WorkspaceFile:
    """A new file from a template: a process with one lane, a decision table, or a form."""
    _require(can_edit(actor))
    if not FILE_NAME.match(name or "") or name.endswith(".uischema.json"):
        raise Invalid(str(_l("文件名须为字母开头,以 .bpmn、.dmn、.schema.json 或 .uischema.json 结尾。")))
    if db.session.get(WorkspaceFile, name) is not None:
        raise Invalid(str(_l("文件“%(name)s”已存在。", name=name)))
    stem = name.split(".", 1)[0]
    if not re.match(r"^[A-Za-z][A-Za-z0-9_]*$", stem):
        raise Invalid(str(_l("文件名(不含扩展名)只能包含字母、数字和下划线,用作流程或决策的编号。")))
    return save_draft(name, TEMPLATES[deploy.file_kind(name)].format(pid=stem), actor, create=True)


def discard_draft(name: str, actor: User) -> None:
    """Throw a draft away (a file never deployed goes with it)."""
    _require(can_edit(actor))
    with transaction() as session:
        row = session.get(WorkspaceFile, name)
        if row is None:
            raise NotFound(str(_l("文件不存在。")))
        if row.content is None:
            session.delete(row)
        else:
            row.draft, row.draft_by_id, row.draft_at = None, None, None
        session.add(AuditEvent(actor_id=actor.id, action="draft_discarded", detail={"file": name}))


def workspace_bundle() -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The workspace with every draft in it, as (process files, form files)."""
    files = {row.name: row.current.encode() for row in db.session.scalars(select(WorkspaceFile))
             if row.current}
    return _split(files)


@dataclass
class Validation:
    """The outcome of the deploy checks on the workspace with its drafts."""

    problems: list[dict[str, str | None]] = field(default_factory=list)
    would_change: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate(actor: User) -> Validation:
    """Exactly the deploy checks, on the workspace with every draft; nothing is stored."""
    _require(can_edit(actor))
    processes, forms_ = workspace_bundle()
    compiled, _forms, problems = deploy.compile_files(db.session, processes, forms_)
    latest = dict(db.session.execute(select(ProcessDefinition.process_key, ProcessDefinition.content_hash)
                                     .where(ProcessDefinition.is_latest.is_(True))).all())
    changed = sorted(pid for pid, proc in compiled.items() if latest.get(pid) != proc.content_hash)
    return Validation([problem_text.describe(p) for p in problems], changed)


@dataclass
class StudioDeploy:
    """A deploy from the studio: the new versions and how many unfinished instances stay behind."""

    result: deploy.DeployResult
    staying: dict[str, int]


def deploy_workspace(actor: User, note: str) -> StudioDeploy:
    """Deploy the workspace with its drafts as new versions (a change note is required)."""
    _require(can_deploy(actor))
    note = (note or "").strip()
    if not note:
        message = str(_l("请填写变更说明。"))
        raise Invalid(message, {"note": [message]})
    processes, forms_ = workspace_bundle()
    try:
        result = deploy.deploy_processes(processes, forms_, actor=actor, note=note[:2000], source="studio",
                                         clear_drafts=True)
    except DeployRefused:
        raise
    staying = {}
    for key, version in result.created.items():
        staying[key] = db.session.scalar(
            select(func.count(ProcessInstance.id)).join(ProcessDefinition)
            .where(ProcessDefinition.process_key == key, ProcessDefinition.version < version,
                   ProcessInstance.status.in_(UNFINISHED))) or 0
    return StudioDeploy(result, staying)


def staying_instances() -> dict[str, int]:
    """Unfinished instances per process that a new version would leave on their current version."""
    rows = db.session.execute(select(ProcessInstance.process_key, func.count(ProcessInstance.id))
                              .where(ProcessInstance.status.in_(UNFINISHED))
                              .group_by(ProcessInstance.process_key)).all()
    return dict(rows)


def process_choices() -> list[tuple[str, str]]:
    """(process id, name) of every process of the workspace, drafts included, by name."""
    found: dict[str, str] = {}
    for row in list_files():
        if row.kind != "bpmn":
            continue
        for match in re.finditer(r"<bpmn:process\b([^>]*)>", row.current):
            attrs = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
            if "id" in attrs:
                found[attrs["id"]] = html.unescape(attrs.get("name") or attrs["id"])
    return sorted(found.items(), key=lambda item: item[1])
