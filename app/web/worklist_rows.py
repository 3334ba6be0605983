"""The worklist's rows as its cells show them, worked out in Python once per page (decision 133)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app import clock
from app.operations import worklist as worklist_ops
from app.web import filters
from app.web.filters import element_name


@dataclass(frozen=True, slots=True)
class Line:
    """A worklist row with what its cells show worked out in Python: the same words and marks the
    filters give, with one reading of the clock and one translation of each name per page (in the
    template, fifty rows of filter calls were most of the page's time)."""

    row: worklist_ops.Row
    name: str  # the task's name in the page's language
    title: str  # the instance's title (a scheduled one named in the page's language, `filters.row_title`)
    css: str  # the deadline light (row--overdue, row--soon, row--ok, or row-- without a due time), row--held
    due: str  # the due time in Shanghai ("" without one)
    left: str  # 剩余 … / 已超时 …
    done_at: str  # the completion time in Shanghai (已办)
    level: str  # the level's name, — without one
    incident_href: str  # the list narrowed to the row's incident
    claimable: bool  # nobody holds it and its process is not suspended
    mine: bool
    may_return: bool  # mine, not addressed to me, not suspended: 退回组内
    held_by: Markup | str  # 由 … 办理中 when a colleague holds it, else ""


def lines(rows: list[worklist_ops.Row], me: int, incident_link: str) -> list[Line]:
    now, words = clock.now(), filters.time_words()
    levels = {level: str(filters.level_label(None, level)) for level in (1, 2, 3, 4)}
    names: dict[str, str] = {}
    colleague = ""
    out = []
    for row in rows:
        name = names.get(row.name)
        if name is None:
            name = names[row.name] = element_name(row.name)
        held = bool(row.assignee_id) and row.assignee_id != me
        if held and not row.assignee_name and not colleague:
            colleague = Markup(_("同事"))  # noqa: S704 - our catalogue's words, markup as the template's _() makes them
        out.append(Line(
            row=row, name=name, title=filters.row_title(row),
            css=f"row--{filters.due_state(row.due_at, row.created_at, now)}{' row--held' if held else ''}",
            due=filters.localtime(row.due_at), left=filters.remaining(row.due_at, now, words),
            done_at=filters.localtime(row.completed_at), level=levels.get(row.level) or "—",  # type: ignore[arg-type]
            incident_href=incident_link + quote(row.incident_id),
            claimable=not row.assignee_id and not row.suspended, mine=row.assignee_id == me,
            may_return=row.assignee_id == me and row.addressed_to_id != me and not row.suspended,
            # As the template's _() made it: the translation is markup, the name is escaped into it.
            held_by=Markup(_("由 %(name)s 办理中")) % {"name": row.assignee_name or colleague}  # noqa: S704
            if held else ""))
    return out


# The list's column and button words, translated once per process and language (a page shows them on
# every row); markup, as the template's _() gives them.
_ROW_WORDS = {"select": _l("选择"), "mine": _l("我的"), "suspended": _l("已挂起"), "only": _l("只看该事件的任务"),
              "unclaimed": _l("未签收"), "claim": _l("签收"), "unclaim": _l("退回组内"), "read": _l("查看办理内容"),
              "paused": _l("该流程已被管理员挂起,暂不能办理;恢复后可继续。"), "task": _l("任务"),
              "incident": _l("事件"), "level": _l("等级"), "suggested": _l("(系统建议,待确认)"),
              "done_at": _l("办结时间"), "due": _l("办理时限"), "holder": _l("签收人")}
_WORDS: dict[str, dict[str, Markup]] = {}


def row_words() -> dict[str, Markup]:
    locale = str(get_locale() or "zh_CN")
    words = _WORDS.get(locale)
    if words is None:
        words = _WORDS[locale] = {key: Markup(str(text)) for key, text in _ROW_WORDS.items()}  # noqa: S704 - ours
    return words
