"""Processes started by a timer (the monthly analysis): one instance waits for each next period.

A process whose start event is a timer declares `schedule` (daily, monthly, quarterly, yearly).
The scheduler keeps exactly one instance waiting for the next period start — 09:00 Asia/Shanghai
on the first day of the period — seeded with `period_start` (what its timer waits for) and the
bounds of the period it reports on (`period_from`, `period_to`, the period just ended) and a title naming
that period ("2026年11月 月度舆情分析研判"). The unique
(process, period) row makes a second scheduler (another worker) harmless. After downtime, the
waiting instance fires once, late; periods missed entirely are not made up (one analysis, not many).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import clock
from app.extensions import db
from app.models import ProcessDefinition, ProcessInstance
from app.operations import instances

START_TIME = time(9, 0)
PERIODS = ("daily", "monthly", "quarterly", "yearly")


def _months_after(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1, day=1)


def period(schedule: str, now: datetime) -> tuple[datetime, datetime, datetime]:
    """(next start, start of the period it reports on, end of it) for a schedule, in Shanghai time."""
    local = clock.local(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if schedule == "daily":
        start = midnight.replace(hour=START_TIME.hour)
        start = start if start > local else start + timedelta(days=1)
        first = start.replace(hour=0)
        return start, first - timedelta(days=1), first
    step = {"monthly": 1, "quarterly": 3, "yearly": 12}[schedule]
    first = midnight.replace(day=1)
    if schedule == "quarterly":
        first = first.replace(month=(first.month - 1) // 3 * 3 + 1)
    elif schedule == "yearly":
        first = first.replace(month=1)
    start = first.replace(hour=START_TIME.hour)
    if start <= local:
        first = _months_after(first, step)
        start = first.replace(hour=START_TIME.hour)
    return start, _months_after(first, -step), first


def ensure_scheduled() -> int:
    """Create the waiting instance of the next period for every scheduled process that lacks one."""
    created = 0
    definitions = db.session.execute(select(ProcessDefinition.process_key, ProcessDefinition.schedule,
                                            ProcessDefinition.name).where(
        ProcessDefinition.is_latest.is_(True), ProcessDefinition.schedule.is_not(None))).all()
    for process_key, schedule, name in definitions:
        start, period_from, period_to = period(schedule, clock.now())
        exists = db.session.scalar(select(ProcessInstance.id).where(
            ProcessInstance.process_key == process_key, ProcessInstance.scheduled_for == start))
        title = f"{period_label(schedule, period_from)} {name or process_key}"
        if exists is None and _schedule(process_key, start, period_from, period_to, title):
            created += 1
    return created


def period_label(schedule: str, period_from: datetime) -> str:
    """The period an instance reports on as people name it: 2026年11月, 2026年第4季度, 2026年, 2026年11月5日."""
    if schedule == "daily":
        return f"{period_from.year}年{period_from.month}月{period_from.day}日"
    if schedule == "quarterly":
        return f"{period_from.year}年第{(period_from.month - 1) // 3 + 1}季度"
    if schedule == "yearly":
        return f"{period_from.year}年"
    return f"{period_from.year}年{period_from.month}月"


MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")


def period_label_en(schedule: str, period_from: datetime) -> str:
    """The period in English: November 2026, Q4 2026, 2026, 5 November 2026."""
    month = MONTHS_EN[period_from.month - 1]
    if schedule == "daily":
        return f"{period_from.day} {month} {period_from.year}"
    if schedule == "quarterly":
        return f"Q{(period_from.month - 1) // 3 + 1} {period_from.year}"
    if schedule == "yearly":
        return str(period_from.year)
    return f"{month} {period_from.year}"


def english_title(instance: ProcessInstance, process_en: str) -> str:
    """A scheduled instance's title on an English page: its process's English name and its period, when the
    stored title is the period and (the end of) the process's name as the scheduler or the diagram wrote it
    ("2026年11月 月度舆情分析研判", "2026年11月舆情分析研判"); any other title as it is."""
    return scheduled_title(instance.title, instance.scheduled_for, instance.definition, process_en)


def scheduled_title(title: str | None, scheduled_for: datetime | None, definition: ProcessDefinition,
                    process_en: str) -> str:
    """`english_title` from the columns a list reads (the worklist's row: title, scheduled_for, its version)."""
    title = title or ""
    if scheduled_for is None or not definition.schedule or definition.schedule not in PERIODS:
        return title
    _, period_from, _ = period(definition.schedule, scheduled_for - timedelta(seconds=1))
    label = period_label(definition.schedule, period_from)
    rest = title[len(label):].strip() if title.startswith(label) else ""
    if not rest or not (definition.name or "").endswith(rest):
        return title
    return f"{process_en}, {period_label_en(definition.schedule, period_from)}"


def _schedule(process_key: str, start: datetime, period_from: datetime, period_to: datetime, title: str) -> bool:
    # The title names the period from the moment the instance waits (a month on the admin lists); the
    # diagram may give it its own words once it starts.
    data = {"period_start": start.isoformat(), "period_from": period_from.isoformat(),
            "period_to": period_to.isoformat(), "title": title}
    try:
        instances.start_instance(process_key, None, data, scheduled_for=start)
    except IntegrityError:
        return False  # another worker scheduled the same period a moment earlier
    return True


def scheduled_instances() -> list[ProcessInstance]:
    """Instances the scheduler created, by period."""
    return list(db.session.scalars(select(ProcessInstance).where(ProcessInstance.scheduled_for.is_not(None))
                                   .order_by(ProcessInstance.scheduled_for)))
