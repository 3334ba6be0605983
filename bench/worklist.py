"""Benchmark: the staff worklist `/tasks` with 100,000 open tasks visible to one person.

Usage: .venv/bin/python bench/worklist.py [--open 100000] [--completed 0] [--rounds 40]
                                          [--state-kb 4] [--database-url URL]

Seeds N open tasks (ten per instance, 1 % claimed by the person, 10 % without a due time) of a lane
role the bench user holds, and optionally M completed ones (half of them completed by the person),
by bulk insert: COPY on PostgreSQL, executemany on SQLite. Each instance carries a state of
--state-kb kilobytes, which the list must never read. Then it times, through the Flask test client
with a logged-in session (the whole request: session, queries, template):

  待办 p1        the default page (mine first, then the group's by due time) with its tab counts
  待办 p20       the 20th page, by following the keyset cursors
  组内           the group tab
  search         待办 narrowed by an incident title
  overdue        待办 narrowed to overdue tasks
  已办           the completed tab (with --completed)
  old query      the query the list ran before (ORM rows with their instances, state included)

and prints p50 / p95 / max in ms, the SQL statements per request and the time spent in them (the
rest is Python: session, template, the rows' labels). SQLite in a temporary
directory unless --database-url (or BENCH_DATABASE_URL) names another, e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/yuqing_bench (created if missing, emptied first).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, event, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import HumanTask, HumanTaskCandidate, ProcessDefinition, ProcessInstance, TaskStatus, User  # noqa: E402
from app.operations import deploy, tasks, users  # noqa: E402

PASSWORD = "bench password 123 worklist"
ROLE = "office_staff"
PER_INSTANCE = 10
TASK_COLUMNS = ("id", "public_id", "instance_id", "task_guid", "process_id", "spec_id", "name", "context",
                "status", "assignee_id", "claimed_at", "due_at", "created_at", "completed_at", "completed_by_id",
                "candidate_roles_text")
INSTANCE_COLUMNS = ("id", "public_id", "definition_id", "process_key", "business_key", "title", "level", "status",
                    "state_json", "serializer_version", "version", "started_at", "updated_at")


def fresh_postgresql(url: str) -> None:
    """Create the database if missing and empty its public schema."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}):
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    engine = create_engine(parsed)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def build(database_url: str):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "YQ_ENV": "test",
                      "RATELIMIT_ENABLED": False, "CONTROLLED_CLOCK": False, "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": tempfile.mkdtemp()})
    with app.app_context():
        upgrade()
        users.ensure_roles_and_units()
        deploy.deploy_processes(*deploy.read_directory(ROOT / "processes", ROOT / "forms"), note="bench")
        users.create_user("bench_staff", "基准办公室人员", PASSWORD, [ROLE], unit_code="office",
                          must_change_password=False, check_strength=False)
    return app


def _ids():
    """Distinct public ids, cheaper than uuid4 per row (a run's random prefix, then a counter)."""
    prefix = uuid.uuid4().int >> 64 << 64
    return (str(uuid.UUID(int=prefix | n)) for n in itertools.count())


def _rows(open_count: int, completed: int, user_id: int, base_instance: int, base_task: int, state: str):
    """(instances, tasks, candidates) as tuples in the column orders above: ten open tasks per running
    instance (with the state), twenty completed ones per finished instance (state kept small)."""
    ids = _ids()
    definition = db.session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.process_key == "yq_incident"))
    now = datetime.now(UTC)
    running = -(-open_count // PER_INSTANCE)
    finished = -(-completed // (2 * PER_INSTANCE))
    instances, task_rows, candidates = [], [], []
    for n in range(running + finished):
        started = now - timedelta(minutes=running + finished - n)
        instances.append((base_instance + n, next(ids), definition, "yq_incident", f"YQ-W-{n:07d}",
                          f"基准舆情事件第 {n} 号", 1 + n % 4, "waiting" if n < running else "completed",
                          state if n < running else "{}", "1.5", 1, started, started))
    for n in range(open_count + completed):
        task_id, done = base_task + n, n >= open_count
        instance = base_instance + (n // PER_INSTANCE if not done else running + (n - open_count) // (2 * PER_INSTANCE))
        due = None if n % 10 == 9 else now + timedelta(minutes=(n * 7919) % 3000 - 120)
        mine = n % 100 == 0 or (done and n % 2 == 0)
        task_rows.append((
            task_id, next(ids), instance, next(ids), "yq_incident", f"ut_bench_{n % 7}", f"基准任务{n % 7}", "{}",
            TaskStatus.COMPLETED if done else TaskStatus.OPEN, user_id if mine else None, now if mine else None,
            due, now - timedelta(hours=3), now - timedelta(seconds=open_count + completed - n) if done else None,
            user_id if done and mine else None, ROLE))
        candidates.append((task_id, ROLE))
    return instances, task_rows, candidates


def seed(open_count: int, completed: int, state_kb: int) -> float:
    """Bulk-insert the rows; returns the seconds it took."""
    began = time.perf_counter()
    user_id = db.session.scalar(select(User.id).where(User.username == "bench_staff"))
    base_instance = (db.session.scalar(select(func.max(ProcessInstance.id))) or 0) + 1
    base_task = (db.session.scalar(select(func.max(HumanTask.id))) or 0) + 1
    state = '{"data": "' + "x" * (state_kb * 1024) + '"}'
    instances, task_rows, candidates = _rows(open_count, completed, user_id, base_instance, base_task, state)
    if db.engine.dialect.name == "postgresql":
        _copy(instances, task_rows, candidates)
    else:
        _executemany(instances, task_rows, candidates)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        for table in ("process_instance", "human_task"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return time.perf_counter() - began


def _copy(instances, task_rows, candidates) -> None:
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 0")  # the app's limit is for requests, not this
        for table, columns, rows in (("process_instance", INSTANCE_COLUMNS, instances),
                                     ("human_task", TASK_COLUMNS, task_rows),
                                     ("human_task_candidate", ("task_id", "role_code"), candidates)):
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


def _executemany(instances, task_rows, candidates, batch: int = 50_000) -> None:
    for model, columns, rows in ((ProcessInstance, INSTANCE_COLUMNS, instances), (HumanTask, TASK_COLUMNS, task_rows),
                                 (HumanTaskCandidate, ("task_id", "role_code"), candidates)):
        table = model.__table__
        for start in range(0, len(rows), batch):
            db.session.execute(insert(table), [dict(zip(columns, row, strict=True))
                                               for row in rows[start:start + batch]])


def _deep_url(client, pages: int) -> str:
    import re  # noqa: PLC0415
    url = "/tasks"
    for _ in range(pages - 1):
        page = client.get(url).get_data(as_text=True)
        url = re.search(r'<a href="([^"]+)" data-testid="next-page">', page).group(1).replace("&amp;", "&")
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--open", type=int, default=100_000, dest="open_count")
    parser.add_argument("--completed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--state-kb", type=int, default=4)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--profile", metavar="FILE", help="also write a cProfile summary of 待办 p1 (top functions)"
                        " and FILE.raw for pstats")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/worklist.db"
    if url.startswith("postgresql"):
        fresh_postgresql(url)
    app = build(url)
    with app.app_context():
        seconds = seed(args.open_count, args.completed, args.state_kb)
        dialect = db.engine.dialect.name
    print(f"{dialect}: seeded {args.open_count:,} open and {args.completed:,} completed tasks "
          f"in {seconds:.1f} s ({args.state_kb} KB of state per instance)")
    client = app.test_client()
    assert client.post("/login", data={"username": "bench_staff", "password": PASSWORD}).status_code == 302
    cases = [("待办 p1", "/tasks"), ("待办 p20", _deep_url(client, 20)), ("组内", "/tasks?view=group"),
             ("search", "/tasks?q=第 4242 号"), ("overdue", "/tasks?due=overdue")]
    if args.completed:
        cases.append(("已办", "/tasks?view=done"))
    print(f"{'case':<12} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'SQL/req':>8} {'SQL ms':>8} {'CPU ms':>8}")
    for name, case_url in cases:
        client.get(case_url)  # warm the caches once
        times, statements, sql_ms, cpu = _measure(app, client, case_url, args.rounds)
        _report(name, times, statements, sql_ms, cpu)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "bench_staff"))
        times = []
        for _ in range(max(5, args.rounds // 4)):
            began = time.perf_counter()
            tasks.list_my_tasks(user)
            tasks.list_group_tasks(user)
            times.append((time.perf_counter() - began) * 1000)
            db.session.expunge_all()
        _report("old query", times, 2)
    if args.profile:
        write_profile(client, "/tasks", args.rounds, Path(args.profile))


def write_profile(client, url: str, rounds: int, path: Path) -> None:
    """cProfile `rounds` requests of `url` (caches warm) and write the top functions as text."""
    import cProfile  # noqa: PLC0415
    import io  # noqa: PLC0415
    import pstats  # noqa: PLC0415

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        client.get(url)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    out.write(f"GET {url}: {rounds} requests through the Flask test client\n")
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    stats.dump_stats(str(path) + ".raw")
    if os.environ.get("YQ_PROFILE_CALLERS"):
        stats.print_callers(os.environ["YQ_PROFILE_CALLERS"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue())
    print(f"profile written to {path}")


def _measure(app, client, url: str, rounds: int) -> tuple[list[float], int, float, list[float]]:
    """Request times (ms), statements per request, the database's share (ms per request) and the
    request thread's CPU times (ms: what the page costs this process, less moved by other load than
    the wall time; it includes the database driver's side of each statement)."""
    count, spent = [0], [0.0]

    def before(connection, *_args: object) -> None:
        connection.info["bench_began"] = time.perf_counter()

    def after(connection, *_args: object) -> None:
        count[0] += 1
        spent[0] += time.perf_counter() - connection.info.pop("bench_began", time.perf_counter())

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        times, cpu = [], []
        for _ in range(rounds):
            began, began_cpu = time.perf_counter(), time.thread_time()
            response = client.get(url)
            times.append((time.perf_counter() - began) * 1000)
            cpu.append((time.thread_time() - began_cpu) * 1000)
            assert response.status_code == 200, response.status_code
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return times, count[0] // rounds, spent[0] * 1000 / rounds, cpu


def _report(name: str, times: list[float], statements: int, sql_ms: float | None = None,
            cpu: list[float] | None = None) -> None:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    sql = f"{sql_ms:8.1f}" if sql_ms is not None else f"{'':>8}"
    used = f" {statistics.median(cpu):8.1f}" if cpu else ""
    print(f"{name:<12} {statistics.median(ordered):8.1f} {p95:8.1f} {ordered[-1]:8.1f} {statements:8d} {sql}{used}")


if __name__ == "__main__":
    main()
