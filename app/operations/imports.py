"""Files made in other modellers: converting their dialects (Camunda 7/8, Flowable, SpiffArena,
bpmn.io) with a report of what was and was not converted, read before the first save; making
processes executable.

The upload shows the report and the problems the deploy checks find in the converted file (with the
workspace around it); only "save" stores the converted file and its form stubs as drafts. `yuqing
deploy` converts the same way and prints the report.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from app.engine import definitions, import_dmn, importing
from app.extensions import db
from app.models import User, WorkspaceFile
from app.operations import deploy, problem_text, studio
from app.operations.errors import Invalid
from app.operations.vocabulary import ROLES

_NOT_EXECUTABLE = re.compile(r"""isExecutable\s*=\s*(["'])false\1""")

DIALECTS: dict[str, Any] = {
    "camunda7": _l("Camunda 7(Camunda Modeler)"), "camunda8": _l("Camunda 8(Zeebe)"),
    "flowable": _l("Flowable / Activiti"), "spiffarena": _l("SpiffArena"), "bpmn": _l("标准 BPMN(如 bpmn.io)"),
    "native": _l("本平台"), "dmn": _l("标准 DMN"),
}
# code → (what was converted | what was not, and what to do)
REPORT: dict[str, Any] = {
    "made_executable": _l("流程原标记为不可执行,已设为可执行。"),
    "assignee": _l("办理人 %(value)s 已转换为任务的“办理人”。"),
    "candidate_users": _l("候选用户 %(users)s 未转换:本平台按泳道的角色分派任务;"
                          "请把任务放入相应角色的泳道,或填写一个办理人。"),
    "lane_created": _l("已按候选组建立泳道,角色为 %(roles)s;请在建模器中把任务移入泳道并调整位置。"),
    "lane_roles": _l("泳道已设置角色 %(roles)s(来自任务的候选组)。"),
    "due": _l("到期时间 %(value)s 已转换为办理期限 %(expression)s。"),
    "follow_up": _l("跟进时间 %(value)s 已转换为办理期限 %(expression)s。"),
    "form_stub": _l("表单 %(key)s 已转换为表单草稿 %(form)s(%(fields)s 个字段),请在表单编辑器中完善。"),
    "form_kept": _l("任务已有本平台的表单,原表单 %(form)s 未转换。"),
    "form_field": _l("表单字段 %(field)s 未转换:类型不受支持,请在表单编辑器中添加。"),
    "form_field_renamed": _l("表单字段 %(field)s 改名为 %(name)s(字段名只能用小写字母、数字和下划线);"
                             "引用 %(field)s 的条件和表达式请一并修改。"),
    "service_impl": _l("服务实现 %(what)s 未转换:本平台不运行外部代码;请在属性面板中选择已登记的服务操作。"),
    "decision": _l("调用的决策 %(decision)s 已转换。"),
    "result_variable": _l("结果变量 %(value)s 未转换:决策结果按决策表的输出列名写入流程数据。"),
    "called_process": _l("调用的流程 %(process)s 已转换。"),
    "script_language": _l("%(language)s 脚本未转换:本平台的脚本使用受限的表达式语言,请改写。"),
    "condition": _l("条件 %(value)s 已转换为 %(expression)s。"),
    "timer": _l("定时器 %(value)s 已转换为 %(expression)s。"),
    "attribute": _l("设置 %(what)s=%(value)s 未转换:本平台没有对应的功能,保留在文件中但不起作用。"),
    "extension": _l("扩展 %(what)s(如监听器、输入输出映射)未转换:保留在文件中但不起作用,请用本平台的任务实现。"),
    "instructions": _l("给办理人的说明已转换为任务说明。"),
    "cell": _l("条件 %(value)s 已转换为 %(expression)s。"),
    "lane_without_roles": _l("泳道“%(lane)s”没有角色:请在属性面板中选择办理其任务的角色。"),
}
NOT_CONVERTED = {"condition": _l("条件 %(value)s 未转换:只能自动转换简单的比较和逻辑条件,"
                                 "请改写为本平台的表达式。"),
                        "timer": _l("定时器 %(value)s 未转换:请改为带引号的 ISO-8601 值或一个变量名。"),
                        "assignee": _l("办理人 %(value)s 未转换:请填写用户名或一个变量名。"),
                        "due": _l("到期时间 %(value)s 未转换:请填写办理期限表达式,如 add_duration(now(), \"P2D\")。"),
                        "follow_up": _l("跟进时间 %(value)s 未转换:本平台每个任务只有一个办理期限。"),
                        "cell": _l("条件 %(value)s 未转换:只能自动转换区间、列表和 not(…),请改写为本平台的条件。")}


@dataclass
class ImportPreview:
    """A converted file before it is saved: the report, the problems the checks find, the stubs."""

    name: str
    dialect: str
    content: str
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    converted: list[dict[str, Any]] = field(default_factory=list)
    not_converted: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def dialect_label(self) -> str:
        return str(DIALECTS.get(self.dialect, self.dialect))

    @property
    def forms_json(self) -> str:
        return json.dumps(self.forms, ensure_ascii=False)


def describe_note(note: importing.Note) -> dict[str, Any]:
    """One report line in the interface language."""
    template = REPORT.get(note.code) if note.converted else NOT_CONVERTED.get(note.code, REPORT.get(note.code))
    try:
        text = str(template) % note.args if template is not None else note.code
    except (KeyError, TypeError, ValueError):
        text = f"{note.code}: {note.args}"
    return {"element": note.element, "name": note.name, "code": note.code, "message": text}


def preview_upload(name: str, content: bytes, actor: User) -> ImportPreview | None:
    """Convert an uploaded BPMN file and run the deploy checks on it; None when nothing needs converting."""
    studio.require_edit(actor)
    studio.check_name(name)
    studio.checked_text(name, content)  # hostile XML is refused whole, before any conversion
    if deploy.file_kind(name) not in ("bpmn", "dmn"):
        return None
    try:
        conversion = _convert(name, content)
    except definitions.DefinitionError as exc:
        raise Invalid("; ".join(problem_text.describe(p)["message"] for p in exc.problems)) from exc
    if not conversion.changed and conversion.dialect == "native":
        return None
    preview = ImportPreview(name, conversion.dialect, conversion.content.decode("utf-8"), conversion.forms)
    for note in conversion.notes:
        (preview.converted if note.converted else preview.not_converted).append(describe_note(note))
    preview.problems = _problems_with(name, conversion.content, conversion.forms)
    return preview


def _convert(name: str, content: bytes) -> importing.Conversion:
    if deploy.file_kind(name) == "dmn":
        return import_dmn.convert_dmn(content, name)
    return importing.convert_bpmn(content, name, _role_labels())


def _role_labels() -> dict[str, str]:
    return {code: name_zh for code, name_zh, _en in ROLES}


def _problems_with(name: str, content: bytes, forms: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    processes, form_files = studio.workspace_bundle()
    processes[name] = content
    for form, schema in forms.items():
        form_files.setdefault(form, json.dumps(schema, ensure_ascii=False).encode())
    _compiled, _forms, problems = deploy.compile_files(db.session, processes, form_files)
    return [problem_text.describe(p) for p in problems if p.file == name or p.file in forms]


def save_import(name: str, content: str, forms_json: str, actor: User) -> WorkspaceFile:
    """Store a converted file and its form stubs (those not in the workspace yet) as drafts."""
    studio.require_edit(actor)
    try:
        stubs = json.loads(forms_json or "{}")
    except ValueError as exc:
        raise Invalid(str(_l("导入的表单草稿无效。"))) from exc
    if not isinstance(stubs, dict):
        raise Invalid(str(_l("导入的表单草稿无效。")))
    row = studio.save_draft(name, content, actor, create=True)
    for form, schema in sorted(stubs.items()):
        if db.session.get(WorkspaceFile, form) is None:
            studio.save_draft(str(form), json.dumps(schema, ensure_ascii=False, indent=2), actor, create=True)
    return row


def convert_for_deploy(process_files: Mapping[str, bytes], form_files: Mapping[str, bytes]
                       ) -> tuple[dict[str, bytes], dict[str, bytes], list[str]]:
    """Convert the files of other modellers in a deploy from disk: (processes, forms, report lines)."""
    processes, forms_ = dict(process_files), dict(form_files)
    lines: list[str] = []
    for name, content in sorted(process_files.items()):
        try:
            conversion = _convert(name, content)
        except definitions.DefinitionError:
            continue  # the deploy checks report it
        if not conversion.changed:
            continue
        processes[name] = conversion.content
        for form, schema in conversion.forms.items():
            forms_.setdefault(form, json.dumps(schema, ensure_ascii=False).encode())
        lines.append(f"{name}: {DIALECTS.get(conversion.dialect, conversion.dialect)}")
        for note in conversion.notes:
            shown = describe_note(note)
            mark = "+" if note.converted else "!"
            lines.append(f"  {mark} {note.element or ''} {shown['message']}")
    return processes, forms_, lines


def make_executable(name: str, actor: User) -> WorkspaceFile:
    """Mark every process of a BPMN file executable (bpmn.io leaves them isExecutable="false"); a draft."""
    row = studio.get_file(name)
    if row.kind != "bpmn":
        raise Invalid(str(_l("只有流程图(.bpmn)可以设为可执行。")))
    text, count = _NOT_EXECUTABLE.subn('isExecutable="true"', row.current)
    if not count:
        raise Invalid(str(_l("该文件中的流程已是可执行的。")))
    return studio.save_draft(name, text, actor)
