"""The instance list: filters, keyset pagination (fast at 100,000 instances), CSV export, saved filters.

A filter is parsed from the list page's query string by `parse_filter`, the same way for the page,
the CSV export, saved filters and batch operations. Pages are keyset-paginated on (sort column, id),
both indexed, so page 2,000 costs what page 1 costs; the total is counted up to `COUNT_CAP`.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from app import clock
from app.db import transaction
from app.engine import runner
from app.extensions import db
from app.models import (
    HumanTask,
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    SavedFilter,
    TaskStatus,
    User,
)
from app.operations import catalog, labels
from app.operations.errors import Conflict, Invalid, NotFound
from app.operations.instance_views import _visible_instances
from app.operations.ledger_export import csv_cell
from app.operations.vocabulary import level_name

PER_PAGE = 50
COUNT_CAP = 10_000
EXPORT_CAP = 100_000
SORTS = {"started": ProcessInstance.started_at, "updated": ProcessInstance.updated_at}
STATUSES = tuple(status.value for status in InstanceStatus)
MAX_SAVED = 50


@dataclass(frozen=True)
class InstanceFilter:
    """What the list shows; every field optional."""

    process: str | None = None
    version: int | None = None
    statuses: tuple[str, ...] = ()
    level: int | None = None
    overdue: bool = False
    started_from: date | None = None
    started_to: date | None = None
    started_by: str | None = None
    text: str | None = None
    sort: str = "-started"
    errors: dict[str, list[str]] = field(default_factory=dict, compare=False)

    def query_args(self) -> dict[str, Any]:
        """The filter as query-string arguments (links, saved filters), without empty values."""
        args: dict[str, Any] = {
            "process": self.process, "version": self.version, "status": list(self.statuses), "level": self.level,
            "overdue": "1" if self.overdue else None, "text": self.text, "started_by": self.started_by,
            "from": self.started_from.isoformat() if self.started_from else None,
            "to": self.started_to.isoformat() if self.started_to else None,
            "sort": self.sort if self.sort != "-started" else None,
        }
        return {key: value for key, value in args.items() if value not in (None, "", [])}


class _Args:
    """Reads query arguments, collecting per-field errors."""

    def __init__(self, args: Mapping[str, Any]):
        self.args = args
        self.errors: dict[str, list[str]] = {}

    def one(self, name: str) -> str | None:
        value = self.args.get(name)
        value = value[0] if isinstance(value, list) and value else value
        return (value.strip()[:200] or None) if isinstance(value, str) else None

    def many(self, name: str) -> list[str]:
        getlist = getattr(self.args, "getlist", None)
        values = getlist(name) if getlist else self.args.get(name, [])
        values = [values] if isinstance(values, str) else values
        return [v.strip() for v in values if isinstance(v, str) and v.strip()]

    def number(self, name: str, low: int, high: int) -> int | None:
        text = self.one(name)
        if text is None:
            return None
        if not text.isdigit() or not low <= int(text) <= high:
            self.errors[name] = [str(_l("请输入 %(low)s 到 %(high)s 之间的整数。", low=low, high=high))]
            return None
        return int(text)

    def day(self, name: str) -> date | None:
        text = self.one(name)
        if text is None:
            return None
        try:
            day = date.fromisoformat(text)
        except ValueError:
            self.errors[name] = [str(_l("日期格式应为 YYYY-MM-DD。"))]
            return None
        if not 1900 <= day.year <= 2999:  # a day more or less must still be a date
            self.errors[name] = [str(_l("日期应在 1900 年至 2999 年之间。"))]
            return None
        return day

    def choices(self, name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        given = self.many(name)
        kept = tuple(value for value in given if value in allowed)
        if len(kept) != len(given):
            self.errors[name] = [str(_l("未知的选项。"))]
        return kept


def parse_filter(args: Mapping[str, Any]) -> InstanceFilter:
    """A filter from query arguments (a werkzeug MultiDict or a plain dict of str / list of str).

    Unusable values are dropped and reported in `errors` (shown next to their field), never guessed.
    """
    a = _Args(args)
    sort = a.one("sort") or "-started"
    if sort.lstrip("-") not in SORTS:
        a.errors["sort"] = [str(_l("未知的排序方式。"))]
        sort = "-started"
    return InstanceFilter(
        process=a.one("process"), version=a.number("version", 1, 1_000_000), statuses=a.choices("status", STATUSES),
        level=a.number("level", 1, 4), overdue=a.one("overdue") in ("1", "on", "true"),
        started_from=a.day("from"), started_to=a.day("to"), started_by=a.one("started_by"), text=a.one("text"),
        sort=sort, errors=a.errors,
    )


def _conditions(f: InstanceFilter) -> list[Any]:
    conditions: list[Any] = []
    if f.process:
        conditions.append(ProcessInstance.process_key == f.process)
    if f.version is not None:
        versions = select(ProcessDefinition.id).where(ProcessDefinition.version == f.version)
        if f.process:
            versions = versions.where(ProcessDefinition.process_key == f.process)
        conditions.append(ProcessInstance.definition_id.in_(versions))
    if f.statuses:
        conditions.append(ProcessInstance.status.in_(f.statuses))
    if f.level is not None:
        conditions.append(ProcessInstance.level == f.level)
    if f.overdue:
        # An uncorrelated IN: the (small) set of overdue tasks is read once through its index.
        conditions.append(ProcessInstance.id.in_(select(HumanTask.instance_id).where(
            HumanTask.status == TaskStatus.OPEN, HumanTask.due_at < clock.now())))
    return conditions + _more_conditions(f)


def _more_conditions(f: InstanceFilter) -> list[Any]:
    conditions: list[Any] = []
    if f.started_from:
        conditions.append(ProcessInstance.started_at >= _utc_midnight(f.started_from))
    if f.started_to:
        conditions.append(ProcessInstance.started_at < _utc_midnight(f.started_to + timedelta(days=1)))
    if f.started_by:
        conditions.append(ProcessInstance.started_by_id.in_(select(User.id).where(User.username == f.started_by)))
    if f.text:
        pattern = "%" + f.text.replace("\\", "").replace("%", "").replace("_", "")[:100] + "%"
        conditions.append(or_(ProcessInstance.title.ilike(pattern), ProcessInstance.business_key.ilike(pattern)))
    return conditions


def _utc_midnight(day: date) -> datetime:
    """Midnight of a day in Asia/Shanghai (the dates people type), as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=clock.SHANGHAI)


def filtered(user: User, f: InstanceFilter) -> Any:
    """The SELECT of the instances the user may see that match the filter (not ordered)."""
    query = _visible_instances(user)
    conditions = _conditions(f)
    return query.where(and_(*conditions)) if conditions else query


@dataclass(frozen=True)
class Page:
    """One page of the list, the cursor of the next page (None on the last) and the count."""

    rows: list[ProcessInstance]
    next_cursor: str | None
    total: int
    total_capped: bool


def list_page(user: User, f: InstanceFilter, cursor: str | None = None, per_page: int = PER_PAGE) -> Page:
    """A page of matching instances after `cursor` (keyset pagination on the sort column and id)."""
    column = SORTS[f.sort.lstrip("-")]
    descending = f.sort.startswith("-")
    query = filtered(user, f)
    after = _decode_cursor(cursor)
    if after is not None:
        value, last_id = after
        # A row-value comparison, which both databases answer from the (column, id) index.
        key, after_key = tuple_(column, ProcessInstance.id), tuple_(literal(value, column.type), literal(last_id))
        query = query.where(key < after_key if descending else key > after_key)
    order = (column.desc(), ProcessInstance.id.desc()) if descending else (column.asc(), ProcessInstance.id.asc())
    rows = list(db.session.scalars(query.order_by(*order).limit(per_page + 1)))
    next_cursor = None
    if len(rows) > per_page:
        rows = rows[:per_page]
        last = rows[-1]
        next_cursor = _encode_cursor(getattr(last, column.key), last.id)
    total = count(user, f)
    return Page(rows, next_cursor, min(total, COUNT_CAP), total > COUNT_CAP)


def count(user: User, f: InstanceFilter, cap: int = COUNT_CAP) -> int:
    """How many instances match, counted up to `cap` + 1 (so a huge table is not scanned whole)."""
    capped = filtered(user, f).with_only_columns(ProcessInstance.id).limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(capped)) or 0


def matching_ids(user: User, f: InstanceFilter, cap: int) -> list[int]:
    """Ids of the matching instances, oldest first, at most `cap` (a batch's selection)."""
    query = filtered(user, f).with_only_columns(ProcessInstance.id)
    return list(db.session.scalars(query.order_by(ProcessInstance.id).limit(cap)))


def _encode_cursor(value: datetime, last_id: int) -> str:
    raw = json.dumps([value.isoformat(), last_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        text, last_id = json.loads(raw)
        value = clock.parse_aware(text)
    except (ValueError, TypeError):
        value, last_id = None, None
    if value is None or not isinstance(last_id, int):
        raise Invalid(str(_l("分页参数无效,请从第一页重新浏览。")))
    return value, last_id


CSV_COLUMNS = ("编号", "标题", "流程", "版本", "状态", "等级", "发起人", "开始时间", "最近更新", "结束时间",
               "出错环节", "链接")


def export_rows(user: User, f: InstanceFilter, base_url: str = "") -> Iterator[str]:
    """The filtered list as CSV chunks (BOM first, so Excel reads the Chinese), newest first.

    The query is built now (the user's visibility is read here); rows are read as the chunks are sent.
    """
    query = (filtered(user, f).add_columns(ProcessDefinition.version, ProcessDefinition.name, User.display_name)
             .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
             .outerjoin(User, User.id == ProcessInstance.started_by_id)
             .order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc()).limit(EXPORT_CAP))
    return _csv_chunks(query, base_url)


def _csv_chunks(query: Any, base_url: str) -> Iterator[str]:
    yield "\ufeff"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for index, (instance, version, name, starter) in enumerate(db.session.execute(query)):
        writer.writerow([
            instance.business_key or "", csv_cell(instance.title or ""), name, version,
            labels.instance_status(instance.status), level_name(instance.level) or "", starter or "",
            *(_iso(t) for t in (instance.started_at, instance.updated_at, instance.ended_at)),
            _element_name(instance), f"{base_url}/instances/{instance.public_id}",
        ])
        if index % 500 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _element_name(instance: ProcessInstance) -> str:
    """The name of the element an instance failed at (its id when it has no name)."""
    if not instance.error_element:
        return ""
    names = runner.element_names(catalog.spec(instance.definition_id))
    return names.get(instance.error_element, instance.error_element)


def _iso(value: datetime | None) -> str:
    return clock.local(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


# -- choices for the filter form ----------------------------------------------------------------


def process_choices() -> list[tuple[str, str, list[int]]]:
    """(process key, name of its newest version, versions) of every deployed process."""
    rows = db.session.execute(select(ProcessDefinition.process_key, ProcessDefinition.name, ProcessDefinition.version,
                                     ProcessDefinition.is_latest)
                              .order_by(ProcessDefinition.process_key, ProcessDefinition.version)).all()
    result: dict[str, tuple[str, list[int]]] = {}
    for key, name, version, latest in rows:
        current_name, versions = result.get(key, (name, []))
        result[key] = (name if latest else current_name, [*versions, version])
    return [(key, name, versions) for key, (name, versions) in result.items()]


# -- saved filters ------------------------------------------------------------------------------


def saved_filters(user: User) -> list[SavedFilter]:
    """The user's saved filters, by name."""
    return list(db.session.scalars(select(SavedFilter).where(SavedFilter.user_id == user.id)
                                   .order_by(SavedFilter.name)))


def save_filter(user: User, name: str, f: InstanceFilter) -> SavedFilter:
    """Save (or overwrite) a named filter of the user."""
    name = (name or "").strip()[:100]
    if not name:
        message = str(_l("请为筛选条件起个名字。"))
        raise Invalid(message, {"name": [message]})
    with transaction() as session:
        row = session.scalar(select(SavedFilter).where(SavedFilter.user_id == user.id, SavedFilter.name == name))
        if row is None:
            if _saved_count(session, user) >= MAX_SAVED:
                raise Conflict(str(_l("最多保存 %(n)s 个筛选条件。", n=MAX_SAVED)))
            row = SavedFilter(user_id=user.id, name=name)
            session.add(row)
        row.query = f.query_args()
        return row


def _saved_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(SavedFilter).where(SavedFilter.user_id == user.id)) or 0


def delete_filter(user: User, filter_id: int) -> None:
    """Delete one of the user's saved filters."""
    with transaction() as session:
        result = session.execute(delete(SavedFilter).where(SavedFilter.id == filter_id,
                                                           SavedFilter.user_id == user.id))
        if not result.rowcount:
            raise NotFound(str(_l("筛选条件不存在。")))


def describe(f: InstanceFilter) -> dict[str, Any]:
    """The filter as plain data (for audit rows of batch operations)."""
    data = asdict(f)
    data.pop("errors", None)
    return {key: (value.isoformat() if isinstance(value, date) else value) for key, value in data.items()
            if value not in (None, (), False, "")}
