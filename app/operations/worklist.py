"""The staff worklist (`/tasks`): 待办 (mine first, then the tasks of people I stand in for (委托), then
my groups' unclaimed tasks, by due time), 我的 (mine and those I stand in for), 组内 and 已办, with
filters, search, capped counts and keyset pages; bulk claims.

Every query reads columns only — `human_task` joined to the instance's number, title, level and
status, never its state — and walks the partial indexes on open tasks in due order (decision
87). A tab's rows come in phases (mine with a due time, mine without, the group's with,
the group's without), each an index-ordered LIMIT; the cursor names the phase and the last key, so
page 500 costs what page 1 costs. Who sees what is `visibility.candidate_clause`, in SQL.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Integer, String, and_, bindparam, cast, func, or_, select, tuple_
from sqlalchemy.orm import aliased

from app import clock
from app.db import transaction
from app.extensions import db
from app.models import HumanTask, Incident, ProcessDefinition, ProcessInstance, TaskStatus, User
from app.operations import catalog, tasks, visibility
from app.operations.errors import Invalid, OperationError

TABS = ("todo", "mine", "group", "done")
DUE_CHOICES = ("overdue", "today")
PER_PAGE = 50
COUNT_CAP = 99  # tabs and the header say 99+ beyond: as useful as an exact 100,000 and 10x cheaper
MAX_BULK = 200
MAX_MATCHES = 500


@dataclass(frozen=True)
class WorklistFilter:
    """What the list shows: the tab and optional narrowing."""

    tab: str = "todo"
    incident: str | None = None  # an instance's public id
    level: int | None = None
    task: str | None = None  # a task name
    due: str | None = None  # overdue | today
    text: str | None = None  # incident title or number
    errors: dict[str, list[str]] = field(default_factory=dict, compare=False)
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def query_args(self, **changes: Any) -> dict[str, Any]:
        """The filter as query-string arguments, without empty values (links, tabs, the next page)."""
        args = {"view": self.tab, "incident": self.incident, "level": self.level, "task": self.task,
                "due": self.due, "q": self.text, **changes}
        return {key: value for key, value in args.items() if value not in (None, "")}

    @property
    def narrowed(self) -> bool:
        return any((self.incident, self.level, self.task, self.due, self.text))


def parse_filter(args: Mapping[str, Any]) -> WorklistFilter:
    """A filter from query arguments; unusable values are dropped and reported next to their field."""
    errors: dict[str, list[str]] = {}

    def one(name: str) -> str | None:
        value = args.get(name)
        return (value.strip()[:200] or None) if isinstance(value, str) else None

    tab = one("view") or "todo"
    if tab not in TABS:
        tab = "todo"
    level = one("level")
    if level is not None and level not in ("1", "2", "3", "4"):
        errors["level"] = [str(_l("未知的选项。"))]
        level = None
    due = one("due")
    if due is not None and due not in DUE_CHOICES:
        errors["due"] = [str(_l("未知的选项。"))]
        due = None
    return WorklistFilter(tab=tab, incident=one("incident"), level=int(level) if level else None, task=one("task"),
                          due=due, text=one("q"), errors=errors)


@dataclass(frozen=True)
class Row:
    """One line of the list: plain values, no ORM object (so nothing else is loaded)."""

    id: int
    public_id: str
    name: str
    due_at: datetime | None
    created_at: datetime | None
    completed_at: datetime | None
    assignee_id: int | None
    assignee_name: str | None
    addressed_to_id: int | None
    incident_id: str
    number: str | None
    title: str | None
    level: int | None
    instance_status: str
    incident_row: int | None
    incident_level: int | None
    scheduled_for: datetime | None  # a scheduled instance (the monthly analysis) is named by its period in English
    definition_id: int
    phase: str

    @property
    def suspended(self) -> bool:
        return self.instance_status == "suspended"

    @property
    def level_suggested(self) -> bool:
        """The level is the system's proposal: the incident's level is not confirmed yet (the ledger's "—")."""
        return self.level is not None and self.incident_row is not None and self.incident_level is None


@dataclass(frozen=True)
class Page:
    """Rows of one page and the cursor of the next (None on the last)."""

    rows: list[Row]
    next_cursor: str | None


@dataclass(frozen=True)
class _Phase:
    name: str
    condition: ColumnElement[bool]
    key: tuple[Any, ...]  # the cursor's columns, ascending unless `descending`
    descending: bool = False
    # The ORDER BY, when more than the key: the index's columns, so that the database reads the index
    # in order (PostgreSQL does not for `due_at IS NULL ORDER BY id` and walks the primary key instead).
    order: tuple[Any, ...] = ()


def _open() -> ColumnElement[bool]:
    return HumanTask.status == TaskStatus.OPEN


def _mine(user: User) -> ColumnElement[bool]:
    return and_(_open(), HumanTask.assignee_id == user.id)


def _holders(user: User, f: WorklistFilter) -> list[int]:
    """The people whose delegate (委托) the user is now, read once per filter."""
    if "holders" not in f.cache:
        f.cache["holders"] = list(db.session.scalars(visibility.delegators(user)))
    return f.cache["holders"]


def _held_for() -> ColumnElement[bool]:
    """Open tasks held by the people whose delegate (委托) the user is now: `wl_holders`, a bind parameter
    (a statement is kept for everyone with delegators of the same roles). Only asked when there are some
    (the usual case is none: one small query per page, and no phase or count for it)."""
    return and_(_open(), HumanTask.assignee_id.in_(bindparam("wl_holders", expanding=True, type_=Integer)))


def _group(user: User, unclaimed_only: bool) -> ColumnElement[bool]:
    if not user.role_codes:
        return and_(False)
    holder = HumanTask.assignee_id.is_(None) if unclaimed_only else \
        or_(HumanTask.assignee_id.is_(None), HumanTask.assignee_id != user.id)
    return and_(_open(), holder, visibility.candidate_clause(user, correlated=True))


def _by_due(prefix: str, condition: ColumnElement[bool]) -> list[_Phase]:
    """Tasks with a due time first, in due order, then those without, oldest first."""
    return [_Phase(prefix + "1", and_(condition, HumanTask.due_at.is_not(None)), (HumanTask.due_at, HumanTask.id)),
            _Phase(prefix + "0", and_(condition, HumanTask.due_at.is_(None)), (HumanTask.id,),
                   order=(HumanTask.due_at, HumanTask.id))]


def _done(user: User) -> ColumnElement[bool]:
    # Only a completion sets `completed_by_id`; no status test, so the planner has one index to take.
    return HumanTask.completed_by_id == user.id


def _phases(user: Any, tab: str, standing_in: bool) -> list[_Phase]:
    if tab == "done":
        return [_Phase("d", _done(user), (HumanTask.completed_at, HumanTask.id), descending=True)]
    if tab == "group":
        return _by_due("g", _group(user, unclaimed_only=False))
    mine = _by_due("m", _mine(user)) + (_by_due("s", _held_for()) if standing_in else [])
    return mine if tab == "mine" else mine + _by_due("u", _group(user, unclaimed_only=True))


def _filters(f: WorklistFilter, tab: str) -> list[ColumnElement[bool]]:
    """Conditions of the narrowing; those on the instance need the join `_rows` and `count` make.
    已办 is not narrowed by due time (the page does not offer it there)."""
    conditions: list[ColumnElement[bool]] = []
    if f.incident:
        conditions.append(HumanTask.instance_id == select(ProcessInstance.id).where(
            ProcessInstance.public_id == f.incident).scalar_subquery())
    if f.level is not None:
        conditions.append(ProcessInstance.level == f.level)
    if f.task:
        conditions.append(HumanTask.name == f.task)
    if f.due == "overdue" and tab != "done":
        conditions.append(HumanTask.due_at < clock.now())
    elif f.due == "today" and tab != "done":
        midnight = datetime.combine(clock.local(clock.now()).date(), time(0), tzinfo=clock.SHANGHAI)
        conditions.append(and_(HumanTask.due_at >= midnight, HumanTask.due_at < midnight + timedelta(days=1)))
    if f.text:
        conditions.append(HumanTask.instance_id.in_(_matching_instances(f)))
    return conditions


def _matching_instances(f: WorklistFilter) -> Any:
    """The incidents the search names: their ids, read once per filter (the page and each count use
    them), then their tasks by the instance index; a search never walks every open task past every
    title. Beyond `MAX_MATCHES` incidents, the subquery itself."""
    if "instances" not in f.cache:
        pattern = "%" + (f.text or "").replace("\\", "").replace("%", "").replace("_", "")[:100] + "%"
        query = select(ProcessInstance.id).where(or_(ProcessInstance.title.ilike(pattern),
                                                     ProcessInstance.business_key.ilike(pattern)))
        ids = list(db.session.scalars(query.limit(MAX_MATCHES + 1)))
        f.cache["instances"] = ids if len(ids) <= MAX_MATCHES else query
    return f.cache["instances"]


def _needs_instance(f: WorklistFilter) -> bool:
    return f.level is not None


# The task holder's row, aliased once: a new alias per query costs SQLAlchemy a fresh column adaptation
# on every page (a tenth of the request), and the alias carries no state.
_HOLDER = aliased(User, name="holder")


def _rows() -> Any:
    holder = _HOLDER
    return (select(HumanTask.id, HumanTask.public_id, HumanTask.name, HumanTask.due_at, HumanTask.created_at,
                   HumanTask.completed_at, HumanTask.assignee_id, holder.display_name.label("assignee_name"),
                   HumanTask.addressed_to_id, ProcessInstance.public_id.label("incident_id"),
                   ProcessInstance.business_key.label("number"), ProcessInstance.title, ProcessInstance.level,
                   ProcessInstance.status.label("instance_status"), Incident.id.label("incident_row"),
                   Incident.level.label("incident_level"), ProcessInstance.scheduled_for,
                   ProcessInstance.definition_id)
            .select_from(HumanTask).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .outerjoin(Incident, Incident.instance_id == ProcessInstance.id)
            .outerjoin(holder, holder.id == HumanTask.assignee_id))


def list_page(user: User, f: WorklistFilter, cursor: str | None = None, per_page: int = PER_PAGE) -> Page:
    """A page of the tab after `cursor`: phase by phase, each read in its index's order.

    Without a filter, each phase's statement is built once for everyone of the same roles (and unit, for a
    unit role) and kept, as `counts` keeps its own: the person, their delegators, the cursor's key and the
    LIMIT are bind parameters."""
    holders = _holders(user, f) if f.tab in ("todo", "mine") else []
    phases = _phases(user, f.tab, bool(holders))
    after = _decode_cursor(cursor, [phase.name for phase in phases])
    start = next((i for i, phase in enumerate(phases) if after and phase.name == after[0]), 0)
    params: dict[str, Any] = {"wl_user": user.id, "wl_holders": holders}
    rows: list[Row] = []
    for index, phase in enumerate(phases[start:]):
        resume = index == 0 and after is not None
        if resume:
            params.update({f"wl_after_{i}": value for i, value in enumerate(after[1])})
        statement = _phase_statement(user, f, phase, resume, bool(holders))
        found = db.session.execute(statement, {**params, "wl_limit": per_page + 1 - len(rows)}).all()
        rows.extend(Row(**row._mapping, phase=phase.name) for row in found)
        if len(rows) > per_page:
            break
    if len(rows) <= per_page:
        return Page(rows, None)
    last = rows[per_page - 1]
    phase = next(phase for phase in phases if phase.name == last.phase)
    return Page(rows[:per_page], _encode_cursor(phase.name, [getattr(last, column.key) for column in phase.key]))


_PAGES: dict[tuple[Any, ...], Any] = {}


def _phase_statement(user: User, f: WorklistFilter, phase: _Phase, resume: bool, standing_in: bool) -> Any:
    """One phase's rows: kept per roles, unit and phase without a filter; built for the page with one."""
    if f.narrowed:
        return _phase_query(phase, f, resume)
    unit = visibility.unit_code(user) if user.role_codes & visibility.UNIT_ROLES else None
    key = (f.tab, phase.name, resume, frozenset(user.role_codes), unit, standing_in)
    statement = _PAGES.get(key)
    if statement is None:
        if len(_PAGES) >= 256:  # role and unit combinations are few; never grow without bound
            _PAGES.clear()
        anyone = _Anyone(frozenset(user.role_codes), _Unit(unit) if unit else None)
        kept = next(p for p in _phases(anyone, f.tab, standing_in) if p.name == phase.name)
        statement = _PAGES[key] = _phase_query(kept, f, resume)
    return statement


def _phase_query(phase: _Phase, f: WorklistFilter, resume: bool) -> Any:
    query = _rows().where(phase.condition, *_filters(f, f.tab))
    if resume:
        query = query.where(_beyond(phase))
    columns = phase.order or phase.key
    order = [column.desc() for column in columns] if phase.descending else list(columns)
    return query.order_by(*order).limit(bindparam("wl_limit", type_=Integer))


def _beyond(phase: _Phase) -> ColumnElement[bool]:
    """Rows after the cursor's key (`wl_after_0`, …), as a row-value comparison both databases answer from
    the index."""
    after = [bindparam(f"wl_after_{i}", type_=column.type) for i, column in enumerate(phase.key)]
    key, after_key = tuple_(*phase.key), tuple_(*after)
    return key < after_key if phase.descending else key > after_key


def _encode_cursor(phase: str, values: list[Any]) -> str:
    plain = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    return base64.urlsafe_b64encode(json.dumps([phase, plain]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None, phases: list[str]) -> tuple[str, list[Any]] | None:
    """(phase, key values) of a cursor this module made; anything else is refused, never guessed."""
    if not cursor:
        return None
    try:
        phase, values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        *times, last_id = values
        moments = [clock.parse_aware(value) for value in times]
    except (ValueError, TypeError):
        phase, moments, last_id = None, [None], None
    width = 1 if str(phase).endswith("0") else 2
    if (phase not in phases or not isinstance(last_id, int) or isinstance(last_id, bool)
            or len(moments) != width - 1 or None in moments):
        raise Invalid(str(_l("分页参数无效,请从第一页重新浏览。")))
    return phase, [*moments, last_id]


def count(user: User, f: WorklistFilter, tab: str, cap: int = COUNT_CAP) -> int:
    """How many rows the tab has under the filter, counted up to `cap` + 1 (never a whole scan)."""
    return counts(user, f, [tab], cap)[tab]


def counts(user: User, f: WorklistFilter, tabs: Iterable[str], cap: int = COUNT_CAP, badge: bool = False,
           also: Mapping[str, Callable[[Any], Any]] | None = None) -> dict[str, Any]:
    """`count` of each of `tabs`, in one statement: each part's capped count is a scalar subquery of
    one SELECT (a page shows every tab's count; one round trip, not five). `badge` adds "badge", the
    header's `todo_count` (待办 without the filter: for a narrowed page), and `also` other single-value
    statements by name, each made from the user by a function that reads nothing but the user's `id`
    (the page's unread messages), to the same round trip: their values as read (None for a count of
    nothing on some databases).

    Without a filter the statement is built once for everyone of the same roles (and unit, for a unit
    role) and kept: the person's id and delegators are bind parameters (`_Anyone`). Building and keying
    it anew was a good part of the page's Python."""
    tabs = list(tabs)
    wanted = {part for tab in tabs for part in _TAB_PARTS[tab]}
    badge_parts = list(_TAB_PARTS["todo"]) if badge else []
    holders = _holders(user, f) if {"standing_in"} & {*wanted, *badge_parts} else []
    params = {"wl_user": user.id, "wl_holders": holders}
    if f.narrowed:  # the filter's values are in the statement: built for this page
        statement = _counts_statement(user, f, wanted, badge_parts, cap, also, bool(holders))
    else:
        unit = visibility.unit_code(user) if user.role_codes & visibility.UNIT_ROLES else None
        key = (frozenset(wanted), tuple(badge_parts), cap, tuple((also or {}).items()), frozenset(user.role_codes),
               unit, bool(holders))
        statement = _COUNTS.get(key)
        if statement is None:
            if len(_COUNTS) >= 256:  # role and unit combinations are few; never grow without bound
                _COUNTS.clear()
            anyone = _Anyone(frozenset(user.role_codes), _Unit(unit) if unit else None)
            statement = _COUNTS[key] = _counts_statement(anyone, f, wanted, badge_parts, cap, also, bool(holders))
    values = db.session.execute(statement, params).one()._mapping if statement is not None else {}
    found = {tab: min(sum(values.get(part, 0) or 0 for part in _TAB_PARTS[tab]), cap + 1) for tab in tabs}
    if badge:
        found["badge"] = min(sum(values.get(f"badge_{part}", 0) or 0 for part in _TAB_PARTS["todo"]), cap + 1)
    return {**found, **{name: values[name] for name in also or {}}}


@dataclass(frozen=True)
class _Unit:
    code: str


@dataclass(frozen=True)
class _Anyone:
    """The user as a kept count statement sees them: their roles and unit as they are, their id a bind
    parameter (what `_mine`, `_group`, `_done` and `visibility.candidate_clause` read of a user)."""

    role_codes: frozenset[str]
    unit: _Unit | None
    id: Any = field(default_factory=lambda: bindparam("wl_user", type_=Integer))


_COUNTS: dict[tuple[Any, ...], Any] = {}


def _counts_statement(user: Any, f: WorklistFilter, wanted: set[str], badge_parts: list[str], cap: int,
                      also: Mapping[str, Callable[[Any], Any]] | None, standing_in: bool) -> Any:
    everything = WorklistFilter(cache=f.cache)  # the badge's parts: no narrowing
    needed = {*wanted, *badge_parts}
    conditions = {"mine": _mine(user), "standing_in": _held_for() if standing_in else None,
                  "unclaimed": _group(user, unclaimed_only=True) if "unclaimed" in needed else None,
                  "group": _group(user, unclaimed_only=False) if "group" in wanted else None,
                  "done": _done(user)}
    # cheap counts added up rather than one OR no index serves
    queries = {part: _count(conditions[part], f, part, cap) for part in sorted(wanted) if conditions[part] is not None}
    queries.update({f"badge_{part}": _count(conditions[part], everything, part, cap) for part in badge_parts
                    if conditions[part] is not None})
    queries.update({name: make(user).scalar_subquery() for name, make in (also or {}).items()})
    return select(*(query.label(part) for part, query in queries.items())) if queries else None


_TAB_PARTS = {"todo": ("mine", "standing_in", "unclaimed"), "mine": ("mine", "standing_in"), "group": ("group",),
              "done": ("done",)}


def _count(condition: ColumnElement[bool], f: WorklistFilter, part: str, cap: int) -> Any:
    """The capped count of `condition` under the filter, as a scalar subquery. Ordered as an index is:
    without it PostgreSQL may read the table from the start for the LIMIT, expecting matches
    everywhere, and walk a million finished tasks to find them."""
    tab = "done" if part == "done" else "todo"  # 已办 is not narrowed by due time
    order = (HumanTask.completed_at, HumanTask.id) if part == "done" else (HumanTask.due_at, HumanTask.id)
    query = select(HumanTask.id).where(condition, *_filters(f, tab)).order_by(*order)
    if _needs_instance(f):
        query = query.join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    return select(func.count()).select_from(query.limit(cap + 1).subquery()).scalar_subquery()


def todo_count(user: User, cap: int = COUNT_CAP) -> int:
    """The header's badge: open tasks that are mine or my groups' to take, up to `cap` + 1."""
    return count(user, WorklistFilter(), "todo", cap)


def latest_definitions() -> Any:
    """The ids of the deployed processes' latest versions as one text ("3,7,12"): a single value, so that
    a page asks it in the round trip of its other counts (`counts`' `also`) and hands it to `task_names`."""
    return select(func.aggregate_strings(cast(ProcessDefinition.id, String), ",")).where(
        ProcessDefinition.is_latest.is_(True))


def task_names(user: User, latest: str | None = None) -> list[str]:
    """Names of the user tasks of the deployed processes that the user's roles take (the task filter);
    `latest` is what `latest_definitions` read, when the page has it."""
    names: set[str] = set()
    if latest is None:
        latest = db.session.scalar(latest_definitions()) or ""
    for definition_id in sorted(int(part) for part in latest.split(",") if part):
        names.update(info["name"] for info in catalog.version(definition_id).tasks.values()
                     if info.get("name") and user.role_codes.intersection(info.get("roles") or []))
    return sorted(names)


def incident_label(public_id: str | None, user: User) -> str | None:
    """Number and title of the incident the list is narrowed to, if the user may see it."""
    if not public_id:
        return None
    row = db.session.execute(select(ProcessInstance.business_key, ProcessInstance.title).where(
        ProcessInstance.public_id == public_id, visibility.instance_clause(user))).first()
    return " ".join(part for part in (row.business_key, row.title) if part) if row else None


@dataclass
class ClaimReport:
    """What a bulk claim did: the names claimed, and (label, reason) of each row refused."""

    claimed: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def claim_tasks(public_ids: Sequence[str], user: User) -> ClaimReport:
    """Claim the selected tasks in one transaction; each row that cannot be claimed is reported with
    the reason, the others are claimed."""
    wanted = list(dict.fromkeys(pid for pid in public_ids if isinstance(pid, str) and pid))[:MAX_BULK]
    report = ClaimReport()
    if not wanted:
        raise Invalid(str(_l("请先选择要签收的任务。")))
    with transaction() as session:
        # Names of the rows the user may see, and their instances' order: locks are taken in instance
        # order so two bulk claims never wait for each other in a circle.
        known = {row.public_id: row for row in session.execute(
            select(HumanTask.public_id, HumanTask.name, HumanTask.instance_id, ProcessInstance.title)
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(HumanTask.public_id.in_(wanted), visibility.task_clause(user)))}
        for public_id in sorted(wanted, key=lambda pid: known[pid].instance_id if pid in known else 0):
            row = known.get(public_id)
            label = f"{row.name}({row.title or ''})" if row else str(_l("所选任务"))
            try:
                tasks.claim_in(session, public_id, user)
            except OperationError as exc:
                report.refused.append((label, exc.message))
                continue
            report.claimed.append(label)
    return report
