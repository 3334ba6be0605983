"""The deploy checks' problems in the process owner's language: a message and a hint how to fix it.

The engine reports each problem with a code and its arguments (plus an English reason for logs);
this table turns them into the interface language through the Babel catalogues. A problem without
a known code keeps the engine's text inside a generic message, so nothing is ever left out.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l

from app import forms
from app.engine import definitions

# code → (message, hint); %(name)s are the problem's arguments.
MESSAGES: dict[str, tuple[Any, Any]] = {
    "file_too_large": (_l("文件超过 %(limit)s kB。"), _l("拆分流程(调用活动)或删除多余的图形后再上传。")),
    "malformed_xml": (_l("文件不是格式正确的 XML:%(detail)s"), _l("用建模工具重新导出该文件。")),
    "doctype": (_l("文件含有 DOCTYPE 声明,出于安全原因被拒绝。"), _l("删除 DOCTYPE 及实体声明后再上传。")),
    "xinclude": (_l("文件含有 XInclude,出于安全原因被拒绝。"), _l("删除 XInclude 元素后再上传。")),
    "file_name": (_l("文件名只能包含字母、数字、点、下划线和连字符,并以 .bpmn 或 .dmn 结尾。"),
                  _l("重命名文件后再上传。")),
    "wrong_root": (_l("文件内容不是 %(kind)s 定义。"),
                   _l("检查文件扩展名是否与内容一致(流程用 .bpmn,决策表用 .dmn)。")),
    "parser": (_l("流程引擎无法读取此处:%(detail)s"),
               _l("检查该元素的设置;来自其他建模工具的文件请用“上传”导入,以转换其专有设置。")),
    "duplicate_id": (_l("同一编号同时用作流程和决策。"), _l("修改其中一个的编号。")),
    "not_executable": (_l("流程“%(process)s”标记为不可执行(isExecutable=\"false\"),不会运行。"),
                       _l("点击“设为可执行”,或在流程属性中勾选“可执行”。")),
    "timer_schedule": (_l("由定时器启动的流程须在开始事件上设置 schedule 属性(%(choices)s)。"),
                       _l("选中开始事件,在属性面板中填写启动周期。")),
    "no_incoming": (_l("该元素没有进入的顺序流,永远不会执行。"), _l("从前一个元素画一条顺序流连到它,或删除它。")),
    "no_operator": (_l("服务任务没有选择服务操作。"),
                    _l("选中该任务,在属性面板中选择已登记的服务操作;若由人办理,请改为用户任务。")),
    "no_decision": (_l("业务规则任务没有选择决策表。"), _l("选中该任务,在属性面板中填写它调用的决策编号。")),
    "no_called_process": (_l("调用活动没有指定被调用的流程。"), _l("选中该元素,在属性面板中填写被调用流程的编号。")),
    "timer_empty": (_l("定时器没有设置时间。"),
                    _l("选中定时器,填写带引号的 ISO-8601 值(如 'PT30M'、'P1D')或一个变量名。")),
    "no_outgoing": (_l("该元素(网关或开始事件)没有离开的顺序流。"), _l("从它画一条顺序流到下一个元素或结束事件。")),
    "loop": (_l("循环中没有等待环节(用户任务、定时器或消息):%(elements)s"),
             _l("在循环中加入一个用户任务或定时器,避免流程空转。")),
    "expression": (_l("%(where)s不被接受:%(detail)s"),
                   _l("表达式只能使用变量名、常量、比较、算术、and/or/not 和登记的函数,"
                      "例如 amount > 1000 and approved。")),
    "script": (_l("%(where)s不被接受:%(detail)s"), _l("脚本只能赋值、删除变量和使用 if;复杂的计算请用服务任务。")),
    "timer": (_l("定时器的值不被接受:%(detail)s"),
              _l("定时器须为带引号的 ISO-8601 值(如 'PT30M'、'P1D'、'R3/PT1H'、带时区的时间)或一个变量名。")),
    "service": (_l("服务任务“%(operator)s”设置有误:%(detail)s"),
                _l("在属性面板中选择已登记的服务操作,并填写它要求的参数。")),
    "recipient_lane": (_l("通知对象“%(key)s”指向本文件中不存在的泳道。"), _l("改为本文件中某个泳道的名称。")),
    "recipient_role": (_l("通知对象“%(key)s”不是已知的角色。"),
                       _l("改为已登记的角色,或 initiator、involved、lane:泳道名、assignee:变量、unit_heads:变量。")),
    "no_lane": (_l("用户任务不在任何泳道中,无法确定由谁办理。"),
                _l("把任务拖入负责它的泳道(本文件的泳道:%(lanes)s);没有泳道时,先在池中添加泳道并设置角色。")),
    "lane_roles": (_l("泳道“%(lane)s”没有设置角色。"), _l("选中该泳道,在属性面板的“角色”中选择办理其任务的角色。")),
    "lane_unknown_roles": (_l("泳道“%(lane)s”含有未知角色:%(roles)s"), _l("在属性面板中从已登记的角色中选择。")),
    "form_missing": (_l("表单“%(form)s”不存在。"), _l("新建该表单,或在属性面板中选择已有的表单。")),
    "ledger_kind": (_l("台账类型“%(kind)s”无效。"), _l("从以下类型中选择:%(choices)s。")),
    "return_to": (_l("“退回给”的“%(task)s”不是本流程的用户任务。"),
                  _l("填写本流程中一个用户任务的编号,通常就是被退回修改的这个任务自己。")),
    "dmn_no_decision": (_l("决策文件中没有决策。"), _l("在决策表编辑器中添加一个决策表。")),
    "dmn_requirement": (_l("决策“%(decision)s”依赖其他决策,本平台不支持决策依赖。"),
                        _l("把每个决策表分别放在一个业务规则任务中,按顺序调用。")),
    "dmn_no_table": (_l("决策“%(decision)s”不是决策表(%(kind)s)。"), _l("本平台只执行决策表;请改为决策表。")),
    "dmn_tables": (_l("决策“%(decision)s”含有多个决策表。"), _l("每个决策只保留一个决策表。")),
    "dmn_hit_policy": (_l("决策“%(decision)s”的命中策略 %(policy)s 无效。"),
                       _l("选择 UNIQUE、FIRST、PRIORITY、ANY 或 COLLECT。")),
    "dmn_input_empty": (_l("决策“%(decision)s”的输入列“%(column)s”没有表达式。"),
                        _l("在列头填写输入表达式(通常是一个变量名)。")),
    "dmn_input": (_l("决策“%(decision)s”的输入列“%(column)s”的表达式不被接受:%(detail)s"),
                  _l("输入表达式通常是一个变量名,只能使用比较、算术和登记的函数。")),
    "dmn_output_name": (_l("决策“%(decision)s”有一个输出列没有名称。"), _l("为输出列填写变量名。")),
    "dmn_rule_cells": (_l("决策“%(decision)s”第 %(rule)s 条规则的单元格数与列数不符。"),
                       _l("在决策表编辑器中重新保存该规则。")),
    "dmn_input_cell": (_l("决策“%(decision)s”第 %(rule)s 条规则“%(column)s”列的条件不被接受:%(detail)s"),
                       _l("条件写法如 \"高\"、> 5、in (1, 2)、? >= 3 and ? < 10;留空或 - 表示任意值。")),
    "dmn_output_cell": (_l("决策“%(decision)s”第 %(rule)s 条规则“%(column)s”列的结果不被接受:%(detail)s"),
                        _l("结果须为常量(如 \"Ⅱ级\"、3、True)或只用变量和登记函数的表达式。")),
    "dmn_hidden": (_l("决策“%(decision)s”中有不被接受的表达式:%(detail)s"),
                   _l("在决策表编辑器中检查该决策的每个单元格;文件若经手工修改,请用决策表编辑器重新保存。")),
    "conversion": (_l("导入时未能转换:%(detail)s"), _l("按报告手工修改该元素。")),
}
GENERIC = (_l("%(detail)s"), _l("按提示修改该文件;仍无法解决时,请把文件和此消息交给系统管理员。"))

WHERE: dict[str, Any] = {
    "script": _l("脚本"), "pre-script": _l("前置脚本"), "post-script": _l("后置脚本"),
    "cardinality": _l("多实例数量"), "condition": _l("完成条件"), "event payload": _l("事件数据"),
    "dueAt": _l("办理期限"), "unit": _l("办理单位"), "assignee": _l("办理人"),
}
_WHERE_PATTERNS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^condition to '(.+)'$"), _l("流向“%(x)s”的条件")),
    (re.compile(r"^parameter '(.+)'$"), _l("参数“%(x)s”")),
]
# The evaluator's reasons, most common first; anything else stays as the evaluator said it.
_DETAILS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^attribute access is not allowed$"), _l("不允许访问属性(点号 .)")),
    (re.compile(r"^imports are not allowed$"), _l("不允许导入模块")),
    (re.compile(r"^name '(.+)' starts with '_'$"), _l("名称“%(x)s”不能以下划线开头")),
    (re.compile(r"^function '(.+)' is not in the registry of allowed functions$"),
     _l("函数“%(x)s”不在允许的函数清单中")),
    (re.compile(r"^only registered functions may be called$"), _l("只能调用登记的函数")),
    (re.compile(r"^syntax error: (.+)$"), _l("语法错误(%(x)s)")),
    (re.compile(r"^expression longer than (\d+) characters$"), _l("表达式超过 %(x)s 个字符")),
    (re.compile(r"^script longer than (\d+) characters$"), _l("脚本超过 %(x)s 个字符")),
    (re.compile(r"^f-strings are not allowed; use str\(\) and \+$"), _l("不允许 f 字符串,请用 str() 和 +")),
    (re.compile(r"^loops are not allowed in diagram scripts$"), _l("图中的脚本不允许循环")),
    (re.compile(r"^(\w+) is not allowed$"), _l("不允许使用 %(x)s")),
]
_LINE = re.compile(r"^line (\d+): (.*)$")


def _detail(text: str) -> str:
    line = ""
    match = _LINE.match(text)
    if match:
        line, text = match.group(1), match.group(2)
    for pattern, template in _DETAILS:
        found = pattern.match(text)
        if found:
            text = str(template) % {"x": found.group(1) if found.groups() else ""}
            break
    # A one-line expression (a condition, a cell) needs no line number.
    return str(_l("第 %(n)s 行:%(text)s", n=line, text=text)) if line and line != "1" else text


def _where(label: str) -> str:
    if label in WHERE:
        return str(WHERE[label])
    for pattern, template in _WHERE_PATTERNS:
        found = pattern.match(label)
        if found:
            return str(template) % {"x": found.group(1)}
    return label


# SpiffWorkflow parser messages met in files from other modellers → (message, hint), by their start.
PARSER_MESSAGES: dict[str, tuple[Any, Any]] = {
    "A Service Task must have an operator": (
        _l("服务任务没有选择服务操作(其他建模工具的 Java 类、委托表达式或外部任务在本平台不会执行)。"),
        _l("选中该任务,在属性面板中选择已登记的服务操作;若由人办理,请改为用户任务。")),
}


_XML_POSITION = re.compile(r"line (\d+), column (\d+)")


def xml_refusal(content: bytes, name: str) -> str | None:
    """Why a BPMN/DMN upload is refused before it is stored (hostile XML, not well-formed, not BPMN/DMN), in
    the interface language with the hint; None when it may be stored."""
    if definitions.xml_problem(content, name) is None:
        return None
    try:
        root = definitions.parse_xml(content, name)
    except definitions.DefinitionError as exc:
        problem = exc.problems[0]
    else:
        kind = "dmn" if name.endswith(".dmn") else "bpmn"
        problem = definitions.Problem(name, None, f"not {kind}", "wrong_root", {"kind": kind.upper()})
        del root
    described = describe(problem)
    return f"{described['message']} {described['hint']}"


# A form file's problems come as English text ("<file>: <what>"): the JSON parser's and the JSON Schema
# validator's are said again in the owner's language, with the place they name.
_JSON_POSITION = re.compile(r"^(?P<file>\S+?\.json): (?P<what>.+?): line (?P<line>\d+) column (?P<column>\d+)"
                            r" \(char \d+\)$")
_SCHEMA_PLACE = re.compile(r"^(?P<file>\S+?\.json): (?P<path>\$\S*): (?P<what>.+)$", re.S)
_JSON_WHAT: list[tuple[str, Any]] = [
    ("Expecting property name enclosed in double quotes", _l("属性名须用英文双引号括起")),
    ("Expecting value", _l("此处缺少值")),
    ("Expecting ',' delimiter", _l("此处缺少逗号")),
    ("Expecting ':' delimiter", _l("此处缺少冒号")),
    ("Unterminated string", _l("字符串没有结束的引号")),
    ("Invalid control character", _l("字符串中有换行或控制字符")),
    ("Invalid \\uXXXX escape", _l("Unicode 转义无效")),
    ("Invalid \\escape", _l("反斜杠转义无效")),
    ("Extra data", _l("JSON 结束后还有多余的内容")),
]
_SCHEMA_WHAT: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^(.+) is not valid under any of the given schemas$", re.S), _l("取值 %(x)s 无效")),
    (re.compile(r"^(.+) is not of type (.+)$", re.S), _l("取值 %(x)s 的类型不对(应为 %(y)s)")),
    (re.compile(r"^(.+) is a required property$", re.S), _l("缺少必需的属性 %(x)s")),
    (re.compile(r"^(.+) is not one of (.+)$", re.S), _l("取值 %(x)s 不在允许的取值 %(y)s 中")),
    (re.compile(r"^Additional properties are not allowed \((.+) (?:was|were) unexpected\)$", re.S),
     _l("含有不允许的属性 %(x)s")),
    (re.compile(r"^(.+) should be non-empty$", re.S), _l("不能为空")),
    (re.compile(r"^(.+) is too short$", re.S), _l("取值 %(x)s 过短")),
]
FORM_MESSAGES: dict[str, tuple[Any, Any]] = {
    "json_position": (_l("“%(file)s”不是格式正确的 JSON:第 %(line)s 行第 %(column)s 列,%(what)s。"),
                      _l("检查该处附近的引号、逗号、冒号和括号;用表单编辑器修改的,请重新保存。")),
    "json": (_l("“%(file)s”不是格式正确的 JSON:%(what)s"), _l("用表单编辑器修改该文件后重新保存。")),
    "schema": (_l("“%(file)s”的 %(path)s 处%(what)s。"),
               _l("按 JSON Schema(2020-12)的写法修改该处,例如 type 只能是 string、number、integer、boolean、"
                  "array 或 object。")),
}


def _form_problem(reason: str) -> tuple[str, str] | None:
    """A form file's JSON or JSON Schema problem as (message, hint) in the interface language, else None."""
    found = _JSON_POSITION.match(reason)
    if found:
        what = next((str(text) for start, text in _JSON_WHAT if found["what"].startswith(start)), found["what"])
        message, hint = FORM_MESSAGES["json_position"]
        return str(message) % {**found.groupdict(), "what": what}, str(hint)
    found = _SCHEMA_PLACE.match(reason)
    if found:
        what = str(_l("不符合 JSON Schema 规范:%(x)s")) % {"x": found["what"]}
        for pattern, template in _SCHEMA_WHAT:
            matched = pattern.match(found["what"])
            if matched:
                groups = matched.groups()
                what = str(template) % {"x": groups[0], "y": groups[1] if len(groups) > 1 else ""}
                break
        message, hint = FORM_MESSAGES["schema"]
        return str(message) % {"file": found["file"], "path": found["path"], "what": what}, str(hint)
    return None


def json_refusal(content: bytes, name: str) -> str | None:
    """Why a form file upload is refused before it is stored (not JSON, not one object, too deep), in the
    interface language with the hint; None when it may be stored (the deploy checks come later)."""
    try:
        forms.load_json(content, name)
    except forms.FormSchemaError as exc:
        reason = exc.problems[0]
        known = _form_problem(reason)
        if known:
            return f"{known[0]} {known[1]}"
        message, hint = FORM_MESSAGES["json"]
        return f"{str(message) % {'file': name, 'what': reason.removeprefix(name + ': ')}} {hint}"
    return None


def describe(problem: definitions.Problem) -> dict[str, Any]:
    """A problem as the studio, the deploy command and the API show it: file, element, message, hint."""
    if not problem.code and (form := _form_problem(str(problem.reason))):
        return {"file": problem.file, "element": problem.element, "code": None, "reason": problem.reason,
                "message": form[0], "hint": form[1]}
    message, hint = MESSAGES.get(problem.code, GENERIC)
    if problem.code == "parser":
        known = next((pair for start, pair in PARSER_MESSAGES.items()
                      if str(problem.reason).strip().startswith(start)), None)
        message, hint = known or (message, hint)
    args: dict[str, Any] = {"detail": problem.reason, **problem.args}
    if "detail" in problem.args:
        args["detail"] = _detail(str(problem.args["detail"]))
    if "where" in args:
        args["where"] = _where(str(args["where"]))
    position = _XML_POSITION.search(str(problem.args.get("detail", ""))) if problem.code == "malformed_xml" else None
    if position:  # the parser's own words are English: the owner gets where, and what it likely means
        args["detail"] = str(_l("第 %(line)s 行第 %(column)s 列附近有误(文件可能不完整或已损坏)。",
                                line=position.group(1), column=position.group(2)))
    try:
        text, fix = str(message) % args, str(hint) % args
    except (KeyError, TypeError, ValueError):
        text, fix = problem.reason, str(GENERIC[1])
    return {"file": problem.file, "element": problem.element, "code": problem.code or None,
            "reason": problem.reason, "message": text, "hint": fix}
