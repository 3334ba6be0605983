"""What the incident bench keeps per completion (the stored state before and after) and the bare-engine
floor for the same states: restore + complete + serialize with SpiffWorkflow through app.engine, no
database, no HTTP, no forms."""

from __future__ import annotations

import statistics
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from tests.e2e.walk import Walk

FLOOR_ROUNDS = 5


@dataclass
class StepRecord:
    spec_id: str
    guid: str
    definition_id: int
    before: str
    after: str
    submitted: dict
    at: Any = None  # the controlled clock when it was completed


class RecordingWalk(Walk):
    """A walk that keeps the instance's stored state around every completion."""

    records: list[StepRecord]
    workers: dict[str, str]  # task spec id → who worked it (shared by a client's walks)

    @staticmethod
    def _fresh() -> None:
        """The server changed the rows: end this reader's transaction and forget what it read."""
        from app.extensions import db  # noqa: PLC0415

        db.session.rollback()

    def look(self) -> None:
        """As people do: the person whose task it is reads their worklist (everyone, for a task whose
        person is not known yet), rather than every person every round."""
        self._fresh()
        keep = self.people
        wanted = {self.workers.get(task.spec_id) for task in self.open_tasks()}
        if None not in wanted:
            self.people = {name: keep[name] for name in wanted}
        self.visible = {}
        try:
            super().look()
        finally:
            self.people = keep

    def start(self, person: str, url: str, button: str):
        """Follow the incident of the task page the start button led to (other clients' incidents
        show on the same pages, so the first instance link may be theirs)."""
        from app.extensions import db  # noqa: PLC0415
        from app.models import HumanTask  # noqa: PLC0415

        self.instance_ids.append("")  # follow() adds nothing meanwhile
        page = super().start(person, url, button)
        self._fresh()
        public_id = page.url.split("?")[0].rsplit("/", 1)[-1]
        task = db.session.scalar(select(HumanTask).where(HumanTask.public_id == public_id))
        if task is None:
            raise AssertionError(f"the start button led to {page.url}, not to a task: {page.errors()}")
        self.instance_ids[:] = [task.instance.public_id]
        return page

    def follow(self, page) -> None:
        if not self.instance_ids:
            super().follow(page)

    def step(self) -> bool:
        if super().step():
            return True
        self._fresh()  # the task may have gone to someone else this time: everyone looks
        self.visible = {}
        Walk.look(self)
        return super().step()

    def advance_clock(self) -> bool:
        self._fresh()
        if super().advance_clock():
            return True
        self._fresh()  # another client's bench fired this incident's timer meanwhile: look again
        return bool(self.open_tasks())

    def work(self, person: str, url: str, spec_id: str):
        from app import forms  # noqa: PLC0415
        from app.extensions import db  # noqa: PLC0415
        from app.models import HumanTask  # noqa: PLC0415
        from app.operations import tasks as task_ops  # noqa: PLC0415
        from app.operations import timer_firing  # noqa: PLC0415

        if not hasattr(self, "records"):
            self.records = []
        timer_firing.fire_due_timers()  # as the worker does when they fall due (other clients move the clock)
        self._fresh()
        task = db.session.scalar(select(HumanTask).where(HumanTask.public_id == url.rsplit("/", 1)[1]))
        instance = task.instance
        db.session.refresh(instance)
        before, guid = instance.state_json, task.task_guid
        self.workers[spec_id] = person
        self._fresh()
        page = super().work(person, url, spec_id)
        self._fresh()
        db.session.refresh(instance)
        db.session.refresh(task)
        submitted = dict(task.submitted or {})
        submitted = {**forms.blanks(task_ops.task_form(task), submitted), **submitted}
        self.records.append(StepRecord(spec_id, guid, instance.definition_id, before, instance.state_json,
                                       submitted, self.clock()))
        return page


def engine_floor(record: StepRecord, profile: dict[str, Any]) -> float:
    """Median ms of restore + complete (with the data the server completed it with) + serialize."""
    from app.engine import runner  # noqa: PLC0415
    from app.engine.environment import Environment  # noqa: PLC0415
    from app.operations import catalog  # noqa: PLC0415

    spec = catalog.spec(record.definition_id)
    data = record.submitted  # what the server completed the task with (the form's blanks included)
    env = Environment(profile=profile, query=lambda _name, _params: [], record=lambda _effect: None)
    samples = []
    from app import clock  # noqa: PLC0415

    current = clock._source
    clock.set_source(lambda: record.at)  # timers due then, not those due by the end of the bench
    try:
        for _ in range(FLOOR_ROUNDS):
            started = time.perf_counter()
            runner.complete(spec, record.before, record.guid, data, env=env)
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        clock.set_source(current)
    return statistics.median(samples)


def print_states(records: list[StepRecord]) -> float | None:
    """State size per completion of one incident, next to the bare-engine floor for that state; returns
    the median floor (ms)."""
    from app.extensions import db  # noqa: PLC0415
    from app.operations import profiles  # noqa: PLC0415

    profile = profiles.active_values(db.session)
    print(f"{'completed task':28} {'state before':>12} {'state after':>12} {'engine floor ms':>16}")
    floors = []
    for record in records:
        try:
            floors.append(engine_floor(record, profile))
            floor = f"{floors[-1]:16.1f}"
        except Exception as exc:
            floor = f"{'n/a':>16} ({type(exc).__name__})"
        print(f"{record.spec_id:28} {len(record.before.encode()):12,} {len(record.after.encode()):12,} {floor}")
    return statistics.median(floors) if floors else None


@contextmanager
def postgres_database(server_url: str):
    """A throw-away database on the PostgreSQL server `server_url` points at."""
    url = make_url(server_url)
    name = f"yq_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def print_compaction(full: list[StepRecord], compacted: list[StepRecord]) -> None:
    """Stored state after each completion, whole and compacted, and the engine floor on each."""
    from app.extensions import db  # noqa: PLC0415
    from app.operations import profiles  # noqa: PLC0415

    profile = profiles.active_values(db.session)
    print("\nstate compaction on the level-4 path (one incident each way):")
    print(f"{'completed task':28} {'whole B':>9} {'compact B':>9} {'floor ms':>9} {'floor ms':>9}")
    for one, other in zip(full, compacted, strict=False):
        cells = []
        for record in (one, other):
            try:
                cells.append(f"{engine_floor(record, profile):9.1f}")
            except Exception as exc:
                cells.append(f"{type(exc).__name__[:9]:>9}")
        print(f"{one.spec_id:28} {len(one.after.encode()):9,} {len(other.after.encode()):9,} {cells[0]} {cells[1]}")
