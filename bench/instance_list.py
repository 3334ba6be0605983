"""Benchmark: the admin instance list at 100,000 instances — keyset pages vs. offset pages.

Usage: .venv/bin/python bench/instance_list.py [--instances 100000] [--rounds 20] [--database-url URL]

Fills `process_instance` with N rows (bulk insert, 2 % of them with an overdue open task), then
times, as an admin sees them:
  first page        the default list (newest first) with its capped count
  deep page         the page after row 90 % of the way down, by keyset cursor (what the app does)
  deep by OFFSET    the same page by LIMIT/OFFSET (what the app does not do), for comparison
  text filter       title search across all rows
  overdue filter    instances with an overdue open task
  count             the capped count alone (stops at 10,001)
and prints median/p95 ms of each. SQLite in a temporary directory unless --database-url (or
BENCH_DATABASE_URL) names another, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/yuqing_bench
(must exist and be empty).
"""

from __future__ import annotations

import argparse
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
from sqlalchemy import insert, select  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import HumanTask, ProcessDefinition, ProcessInstance, TaskStatus, User  # noqa: E402
from app.operations import deploy, search, users  # noqa: E402

BATCH = 5000


def build(database_url: str):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "YQ_ENV": "test",
                      "RATELIMIT_ENABLED": False, "CONTROLLED_CLOCK": False, "INSTANCE_PATH": tempfile.mkdtemp()})
    with app.app_context():
        upgrade()
        users.ensure_roles_and_units()
        deploy.deploy_processes(*deploy.read_directory(ROOT / "processes", ROOT / "forms"), note="bench")
        if db.session.scalar(select(User).where(User.username == "bench_admin")) is None:
            users.create_user("bench_admin", "基准管理员", "bench password 123", ["admin"], must_change_password=False)
    return app


def fill(count: int) -> None:
    definition = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_key == "yq_incident"))
    now = datetime.now(UTC)
    statuses = ["waiting"] * 6 + ["completed"] * 3 + ["error"]
    made = 0
    while made < count:
        size = min(BATCH, count - made)
        rows = []
        for index in range(made, made + size):
            started = now - timedelta(minutes=count - index)
            rows.append({"public_id": str(uuid.uuid4()), "definition_id": definition.id, "process_key": "yq_incident",
                         "business_key": f"YQ-B-{index:06d}", "title": f"基准事件 {index} 号", "level": 1 + index % 4,
                         "status": statuses[index % len(statuses)], "state_json": "{}", "serializer_version": "1.5",
                         "version": 1, "started_at": started, "updated_at": started})
        db.session.execute(insert(ProcessInstance), rows)
        ids = db.session.scalars(select(ProcessInstance.id).where(ProcessInstance.business_key.in_(
            [row["business_key"] for row in rows[::50]]))).all()
        db.session.execute(insert(HumanTask), [
            {"public_id": str(uuid.uuid4()), "instance_id": iid, "task_guid": str(uuid.uuid4()), "process_id": "p",
             "spec_id": "ut_x", "name": "基准任务", "context": {}, "status": TaskStatus.OPEN,
             "due_at": now - timedelta(hours=1), "created_at": now - timedelta(hours=2), "candidate_roles_text": ""}
            for iid in ids])
        db.session.commit()
        made += size


def timed(rounds: int, action) -> list[float]:
    samples = []
    for _ in range(rounds):
        db.session.expire_all()
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[max(int(len(ordered) * 0.95) - 1, 0)]
    print(f"  {name:<16} median {statistics.median(ordered):8.2f} ms   p95 {p95:8.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = build(url)
    with app.test_request_context():
        started = time.perf_counter()
        fill(args.instances)
        took = time.perf_counter() - started
        print(f"{args.instances} instances on {db.engine.dialect.name} (filled in {took:.1f} s)")
        admin = db.session.scalar(select(User).where(User.username == "bench_admin"))
        everything = search.parse_filter({})
        depth = int(args.instances * 0.9)
        row = db.session.execute(select(ProcessInstance.started_at, ProcessInstance.id)
                                 .order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc())
                                 .offset(depth).limit(1)).one()
        cursor = search._encode_cursor(row.started_at, row.id)
        deep = search.list_page(admin, everything, cursor)
        offset_query = (search.filtered(admin, everything)
                        .order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc())
                        .offset(depth + 1).limit(search.PER_PAGE))
        assert [r.id for r in db.session.scalars(offset_query)] == [r.id for r in deep.rows]  # same page
        report("first page", timed(args.rounds, lambda: search.list_page(admin, everything)))
        report("deep page", timed(args.rounds, lambda: search.list_page(admin, everything, cursor)))
        report("deep by OFFSET", timed(args.rounds, lambda: db.session.scalars(offset_query).all()))
        report("text filter", timed(args.rounds, lambda: search.list_page(admin, search.parse_filter(
            {"text": "基准事件 4242 号"}))))
        report("overdue filter", timed(args.rounds, lambda: search.list_page(admin, search.parse_filter(
            {"overdue": "1"}))))
        report("count", timed(args.rounds, lambda: search.count(admin, everything)))
        print("(each list page includes its count, capped at 10,001; OFFSET is shown for comparison only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
