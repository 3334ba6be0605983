"""Labels of the service operators for the modeller's pickers: the registry (app/engine/services.py)
describes its operators in English for developers; the studio shows them in the page's language
(Chinese by default). An operator or parameter without a label here keeps the registry's text."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

OPERATORS = {
    "notify": (_l("发送通知"), _l("按角色等向接收人发送一种已登记类型的通知")),
    "ledger": (_l("记入台账"), _l("在事件台账中记一行,记什么由类别决定")),
    "start_incident": (_l("新建事件"), _l("由线索新建一个事件(独立的事件流程实例),并预填数据")),
    "forward_update": (_l("转交事件更新"), _l("把更新消息送到该编号的在办事件,并记入其台账")),
    "call_system": (_l("调用外部系统"),
                    _l("向管理员登记的外部系统(按名称选择的 Webhook 通道)发送 JSON 对象并等待答复;"
                       "答复({status, body})存入结果变量。系统不可达时自动重试,流程实例等待")),
    "monthly_stats": (_l("台账统计"), _l("某一时段的事件台账统计(查询)")),
    "incident_record": (_l("本事件台账"), _l("本事件的台账:时间线及各时限是否按时完成(查询)")),
}

PARAMETERS = {
    ("notify", "template"): _l("通知类型,例如 quick_report"),
    ("notify", "recipients"): _l("角色代码、'initiator'(发起人)、'involved'(办理过本实例任务的人)、"
                                 "'lane:<泳道名>'、'assignee:<任务标识>'、'unit_heads:<数据名>'"),
    ("notify", "urgent"): _l("同时使用紧急渠道"),
    ("notify", "once"): _l("同一实例中此值只发送一次(例如时限),不论有几条路径要求发送"),
    ("notify", "until"): _l("到达此时间后不再发送(例如时限已过后不再发送临期预警)"),
    ("ledger", "kind"): _l("台账类别"),
    ("ledger", "deadline"): _l("用于 deadline_missed:哪一个时限"),
    ("ledger", "due_at"): _l("用于 deadline_missed:不是事件自身时限时的到期时间(如下发任务的那一行)"),
    ("ledger", "subject"): _l("用于 deadline_missed:谁的时限(单位代码),两个单位同时超时记为两行"),
    ("ledger", "note"): _l("记入台账的一行文字"),
    ("start_incident", "data"): _l("新事件的初始数据"),
    ("forward_update", "incident_no"): _l("事件编号,例如 YQ-2026-0001"),
    ("forward_update", "update"): _l("新的内容(链接、数据、备注)"),
    ("call_system", "channel"): _l("已登记通道的名称(不填地址)"),
    ("call_system", "payload"): _l("要发送的 JSON 对象"),
    ("monthly_stats", "period_start"): _l("起始时间(ISO 格式,包含)"),
    ("monthly_stats", "period_end"): _l("截止时间(ISO 格式,不包含)"),
}


def labelled(catalogue: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The registry's catalogue (services.operator_catalogue()) with a `label` per operator ("发送通知(notify):
    …") and the descriptions in the page's language, as plain strings for the page's JSON."""
    result = []
    for operator in catalogue:
        name = operator["name"]
        title, description = OPERATORS.get(name, (None, None))
        text = str(description) if description is not None else operator["description"]
        label = _("%(title)s(%(name)s):%(text)s", title=title, name=name, text=text) if title is not None else name
        parameters = [{**parameter,
                       "description": str(PARAMETERS.get((name, parameter["name"]), parameter["description"]))}
                      for parameter in operator["parameters"]]
        result.append({**operator, "label": label, "description": text, "parameters": parameters})
    return result
