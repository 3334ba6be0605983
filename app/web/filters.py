"""Template filters: times in Asia/Shanghai, level names, deadline colours, and the labels of the codes
the data holds (units, roles, form choices, statuses) — a page never shows a code where a label exists."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, g
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from jinja2 import pass_context
from markupsafe import Markup, escape

from app import clock
from app.extensions import db
from app.models import ProcessDefinition
from app.operations import element_names, labels, ledger_reading, schedules, vocabulary

STATUS_NAMES = labels.INSTANCE_STATUSES

ACTION_NAMES = {
    "instance_started": _l("启动流程"),
    "instance_completed": _l("流程结束"),
    "instance_error": _l("流程出错"),
    "task_created": _l("生成任务"),
    "task_claimed": _l("签收任务"),
    "task_unclaimed": _l("退回任务"),
    "task_completed": _l("办结任务"),
    "task_cancelled": _l("任务取消"),
    "task_draft_saved": _l("保存草稿"),
    "timers_fired": _l("定时器触发"),
    "notification_sent": _l("发送通知"),
    "message_received": _l("收到消息"),
    "warning": _l("流程警告"),
    "deploy": _l("部署流程"),
    "attachment_uploaded": _l("上传附件"),
    "attachment_downloaded": _l("下载附件"),
    "attachment_previewed": _l("预览附件"),
    "comment_added": _l("发表流转意见"),
    "attachments_discarded": _l("删除未提交附件"),
    "alert_received": _l("收到线索"),
    "incident_opened": _l("登记为新事件"),
    "instance_suspended": _l("挂起流程"),
    "instance_resumed": _l("恢复流程"),
    "instance_terminated": _l("终止流程"),
    "registration_withdrawn": _l("撤销登记"),
    "instance_retried": _l("重试流程"),
    "instance_migrated": _l("迁移版本"),
    "migration_reverted": _l("撤销迁移"),
    "data_edited": _l("修改流程数据"),
    "timer_rescheduled": _l("调整定时"),
    "message_sent_by_admin": _l("代发消息"),
    "task_reassigned": _l("转办任务"),
    "task_due_changed": _l("调整办理时限"),
    "task_completed_by_admin": _l("代为办理"),
    "task_skipped": _l("跳过任务"),
    "batch_started": _l("发起批量操作"),
    "batch_finished": _l("批量操作完成"),
    "instances_exported": _l("导出流程清单"),
    "system_called": _l("调用外部系统"),
    "system_answered": _l("外部系统已答复"),
    "system_answer_kept": _l("外部系统答复已记录"),
    "task_passed": _l("同事转办"),
    "task_urged": _l("催办"),
    "document_generated": _l("生成文书"),
    "document_not_generated": _l("文书未能生成"),
    "document_downloaded": _l("下载文书"),
    "draft_saved": _l("保存草稿"),
    "draft_discarded": _l("已放弃草稿"),
    "ledger_exported": _l("导出台账"),
    "delegation_created": _l("设置委托"),
    "delegation_ended": _l("委托已结束"),
    "job_failed": _l("后台作业失败"),
    "job_retried": _l("重试后台作业"),
    "job_dismissed": _l("放弃后台作业"),
    "api_call": _l("接口调用"),
    "api_token_issued": _l("签发接口令牌"),
    "api_token_revoked": _l("吊销接口令牌"),
    "channel_registered": _l("登记通知渠道"),
    "channel_deactivated": _l("停用通知渠道"),
    "contact_changed": _l("修改联系方式"),
    "login": _l("用户登录"),
    "logout": _l("退出登录"),
    "password_changed": _l("已修改密码"),
    "profile_activated": _l("启用组织配置"),
    "profile_updated": _l("修改组织配置"),
    "user_created": _l("创建用户"),
}


@pass_context  # never folded into the compiled template (`1|level_name` is constant to Jinja's optimizer)
def level_label(_context: Any, level: object) -> str | None:
    """A level's name in the page's language (the `level_name` filter)."""
    return vocabulary.level_name(level, str(get_locale() or ""))


def localtime(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An aware datetime (or ISO string with offset) shown in Asia/Shanghai."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
        if value.tzinfo is None:
            return value.strftime(fmt)
    return clock.local(value).strftime(fmt)


def due_state(due_at: datetime | None, created_at: datetime | None = None, now: datetime | None = None) -> str:
    """'overdue', 'soon' (within 1 h or the last 20 %), 'ok' or '' — the red/yellow light (at `now`, a page's
    one reading of the clock, or the clock's time)."""
    if due_at is None:
        return ""
    now = now or clock.now()
    if due_at <= now:
        return "overdue"
    remaining = due_at - now
    total = (due_at - created_at) if created_at else None
    if remaining <= timedelta(hours=1) or (total and remaining <= total * 0.2):
        return "soon"
    return "ok"


def time_words() -> dict[str, str]:
    """The words of `span` and `remaining` in the page's language, translated once per process and
    language (a worklist page shows them for every row; each translation lookup is not free)."""
    locale = str(get_locale() or "zh_CN")
    words = _TIME_WORDS.get(locale)
    if words is None:
        words = _TIME_WORDS[locale] = {
            "d": str(_l("%(n)d天")), "h": str(_l("%(n)d小时")), "m": str(_l("%(n)d分钟")),
            "left": str(_l("剩余 %(t)s")), "over": str(_l("已超时 %(t)s")), "sep": "" if locale != "en" else " "}
    return words


_TIME_WORDS: dict[str, dict[str, str]] = {}


def span(delta: timedelta | None, round_up: bool = True, words: dict[str, str] | None = None) -> str:
    """A length of time in the page's language: 15分钟, 2小时5分钟, 1天2小时 (the two largest units)."""
    if delta is None:
        return ""
    words = words or time_words()
    seconds = abs(int(delta.total_seconds()))
    minutes = max(1, -(-seconds // 60)) if round_up else seconds // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        parts = [words["d"] % {"n": days}, words["h"] % {"n": hours} if hours else ""]
    elif hours:
        parts = [words["h"] % {"n": hours}, words["m"] % {"n": minutes} if minutes else ""]
    else:
        parts = [words["m"] % {"n": minutes}]
    return words["sep"].join(part for part in parts if part)


def remaining(due_at: datetime | None, now: datetime | None = None, words: dict[str, str] | None = None) -> str:
    """Time left (or overdue by) as a short text; `now` and `words` (`time_words`) when a page has them."""
    if due_at is None:
        return ""
    delta = due_at - (now or clock.now())
    words = words or time_words()
    if delta.total_seconds() > 0:
        return words["left"] % {"t": span(delta, round_up=False, words=words)}
    return words["over"] % {"t": span(delta, words=words)}


def status_name(value: str) -> str:
    """Display name of an instance or task status."""
    return str(STATUS_NAMES.get(value, value))


def action_name(value: str) -> str:
    """Display name of an audit action."""
    return str(ACTION_NAMES.get(value, value))


BATCH_KINDS = {
    "suspend": _l("挂起"), "resume": _l("恢复"), "terminate": _l("终止"), "retry": _l("重试出错流程"),
    "reassign": _l("转办待办任务"), "migrate": _l("版本迁移"),
}


MESSAGE_NAMES = {"msg_yq_update": _l("舆情新情况"), "msg_yq_alert": _l("舆情线索")}


def message_name(value: str) -> str:
    """Display name of a BPMN message."""
    return str(MESSAGE_NAMES.get(value, value))


def batch_kind(value: str) -> str:
    """Display name of a batch operation."""
    return str(BATCH_KINDS.get(value, value))


def pretty_json(value: Any) -> str:
    """Data as indented JSON that keeps Chinese readable (the page escapes it as text)."""
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str)


def display_value(value: Any) -> str:
    """A submitted value as text (lists joined, booleans as 是/否)."""
    if isinstance(value, bool):
        return str(_l("是")) if value else str(_l("否"))
    if isinstance(value, list):
        return listed(display_value(v) for v in value)
    if isinstance(value, dict):
        return str(_l(";")).join(f"{k}: {display_value(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def _units() -> dict[str, str]:
    """Unit names in the page's language, read once per request."""
    if "unit_names" not in g:
        g.unit_names = labels.unit_names(str(get_locale() or "zh_CN"))
    return g.unit_names


def element_name(name: Any) -> str:
    """A process's or a diagram element's name (a task's) in the page's language (decision 115)."""
    return element_names.element_name(name, str(get_locale() or "zh_CN"))


def diagram_text(text: Any) -> str:
    """A diagram's text (a task's instructions, a level's basis) in the page's language; people's own words
    stay as they wrote them."""
    return element_names.diagram_text(text, str(get_locale() or "zh_CN"))


def entry_summary(entry: Any) -> str:
    """A ledger line's summary in the page's language (the stored summary is the record's Chinese)."""
    return ledger_reading.summary_text(entry, str(get_locale() or "zh_CN"))


def instance_title(instance: Any) -> str:
    """An instance's title; one without (started before it had one) is named by its process and start date."""
    if instance.title and _english() and instance.scheduled_for is not None:
        return schedules.english_title(instance, element_name(instance.definition.name))
    if instance.title:
        return instance.title
    return str(_l("%(process)s(%(date)s 启动)", process=element_name(instance.definition.name),
                  date=localtime(instance.started_at, "%Y-%m-%d")))


def row_title(row: Any) -> str:
    """A worklist row's instance title (`instance_title` from the row's columns): a scheduled instance is named
    by its process and period on an English page; its version is read only for such a row."""
    if row.title and row.scheduled_for is not None and _english():
        definition = db.session.get(ProcessDefinition, row.definition_id)
        if definition is not None:
            return schedules.scheduled_title(row.title, row.scheduled_for, definition, element_name(definition.name))
    return row.title or ""


def unit_name(codes: Any) -> str:
    """A unit code (or a list of them) as the unit names."""
    return labels.units_text(codes, _units(), vocabulary.list_separator(str(get_locale() or ""))) if codes else ""


def role_name(code: str) -> str:
    """A role code as its name in the page's language."""
    from app.web import select_locale  # noqa: PLC0415 - the web package imports this module

    if "role_names" not in g:
        g.role_names = labels.role_names(select_locale())
    return g.role_names.get(code, code)


def incident_status(code: str | None) -> str:
    """An incident's ledger status as its name."""
    return labels.incident_status(code)


LINK = Markup('<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>')
URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


def linkify(text: str | None) -> Markup:
    """Plain text with its http(s) addresses as links and nothing else rendered: every piece is escaped
    (a comment with <script> shows as text), line breaks are kept by CSS (white-space: pre-line)."""
    text = text or ""
    parts: list[Markup] = []
    last = 0
    for match in URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?)'")
        end = match.start() + len(url)
        parts.append(escape(text[last:match.start()]))
        parts.append(LINK.format(url, url))  # Markup.format escapes its arguments
        last = end
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def filesize(size: int | None) -> str:
    """A file's size as people read it: 15 字节, 4.2 KB, 1.3 MB (never 0.0 KB for a small file)."""
    if size is None:
        return "—"
    if size < 1024:
        return str(_l("%(n)s 字节", n=size))
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _english() -> bool:
    return str(get_locale() or "").startswith("en")


def listed(values: Any) -> str:
    """Names joined as the page's language lists them: 甲、乙 or A, B."""
    return vocabulary.listed(values, str(get_locale() or ""))


def aside(value: Any) -> Markup:
    """A parenthetical after a word: 待定级(…) in Chinese, "Level pending (…)" with a space in English."""
    return (Markup(" ({})") if _english() else Markup("({})")).format(value)  # value is escaped


def label(value: Any) -> Markup:
    """A label before its value: 状态:… in Chinese, "Status: …" with a space in English."""
    return (Markup("{}: ") if _english() else Markup("{}:")).format(value)  # value is escaped


def list_sep() -> str:
    """What goes between the items of a list built in a template: 、 in Chinese, ", " in English."""
    return ", " if _english() else "、"


def init_app(app: Flask) -> None:
    """Register the filters."""
    app.jinja_env.globals["list_sep"] = list_sep
    app.jinja_env.filters.update(
        localtime=localtime, due_state=due_state, remaining=remaining, level_name=level_label,
        status_name=status_name, action_name=action_name, display_value=display_value, batch_kind=batch_kind,
        pretty_json=pretty_json, span=span, message_name=message_name, unit_name=unit_name, role_name=role_name,
        element_name=element_name, diagram_text=diagram_text, entry_summary=entry_summary,
        instance_title=instance_title, row_title=row_title,
        incident_status=incident_status, linkify=linkify, filesize=filesize, listed=listed, aside=aside, label=label,
    )
