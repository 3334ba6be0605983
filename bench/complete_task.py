"""Benchmark: one user-task completion, bare engine vs. Flask test client vs. a real server on loopback.

Usage: .venv/bin/python bench/complete_task.py [--rounds 200] [--database-url URL]

Each round starts a fresh `yq_aftermath` instance (not timed) whose incident subsided eight days ago,
so the summary opens at once, and completes two tasks: the summary, then its approval (a gateway
decides; the accountability evaluation opens next). Prints median/p95 milliseconds
per completion for:
  engine   load state + complete + run to next wait state + dump state (no database, no HTTP)
  client   POST /tasks/<id> through the Flask test client (database, forms, engine, audit)
  server   POST over a socket to a threaded werkzeug server on 127.0.0.1 (CSRF on, cookies)
and the number of SQL statements the database received per completion (client path).
The database is SQLite in a temporary directory unless --database-url (or BENCH_DATABASE_URL) names
another, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/yuqing_bench (must exist and be empty).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from app import create_app  # noqa: E402
from app.engine import runner  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import HumanTask, TaskStatus  # noqa: E402
from app.operations import catalog, deploy, instances, users  # noqa: E402

PASSWORD = "bench password 123"
SUMMARY = {"work_summary": "总结", "effectiveness": "good", "internal_causes": "原因", "lessons": "经验",
           "plan_revision_needed": "false"}
APPROVE = {"summary_decision": "approve"}
TYPED = {"ut_summary": {**SUMMARY, "plan_revision_needed": False}, "ut_approve_summary": APPROVE}


def _start_data() -> dict:
    """An aftermath whose watch period is over: the summary is the first task."""
    subsided = datetime.now(UTC) - timedelta(days=8)
    return {"title": "基准", "subsided_at": subsided.isoformat(timespec="seconds")}


def _answers(spec_id: str) -> dict:
    return SUMMARY if spec_id == "ut_summary" else APPROVE


def build(database_url: str, csrf: bool):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "YQ_ENV": "test",
                      "WTF_CSRF_ENABLED": csrf, "RATELIMIT_ENABLED": False, "CONTROLLED_CLOCK": False,
                      "INSTANCE_PATH": tempfile.mkdtemp()})
    with app.app_context():
        upgrade()
        users.ensure_roles_and_units()
        deploy.deploy_processes(*deploy.read_directory(ROOT / "processes", ROOT / "forms"), note="bench")
        if db.session.scalar(select(db.func.count()).select_from(users.User)) == 0:
            users.create_user("bench", "基准测试", PASSWORD, ["office_director", "office_staff", "group_leader"],
                              must_change_password=False)
    return app


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"median {statistics.median(ordered):6.2f} ms   p95 {p95:6.2f} ms"


def bench_engine(app, rounds: int) -> list[float]:
    with app.app_context():
        bench_user = users.authenticate("bench", PASSWORD)
        instance = instances.start_instance("yq_aftermath", bench_user, _start_data())
        spec = catalog.spec(instance.definition_id)
        fresh = instance.state_json
    samples = []
    for _ in range(rounds):
        state = fresh
        for _task in range(2):
            guid, spec_id = _ready(spec, state)
            started = time.perf_counter()
            result = runner.complete(spec, state, guid, TYPED[spec_id])  # load + complete + steps + dump
            samples.append((time.perf_counter() - started) * 1000)
            state = result.state
    return samples


def _ready(spec, state):
    from app.engine.state import load_state  # noqa: PLC0415

    workflow = load_state(state, spec, runner.SafeScriptEngine())
    task = workflow.get_tasks(state=runner.TaskState.READY, manual=True)[0]
    return str(task.id), task.task_spec.bpmn_id


def _rounds(app, rounds: int):
    """(url path, spec id) of each task to complete: two per fresh instance."""
    for _ in range(rounds):
        with app.app_context():
            instance_id = instances.start_instance("yq_aftermath", users.authenticate("bench", PASSWORD),
                                                   _start_data()).id
        for _task in range(2):
            with app.app_context():
                task = _open_task(instance_id)
                yield f"/tasks/{task.public_id}", task.spec_id


def _open_task(instance_id: int) -> HumanTask:
    return db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.status == TaskStatus.OPEN))


def bench_client(app, rounds: int) -> tuple[list[float], list[int]]:
    client = app.test_client()
    client.post("/login", data={"username": "bench", "password": PASSWORD})
    counter = {"n": 0}

    def count(*_args):
        counter["n"] += 1

    engine = _engine(app)
    samples, statements = [], []
    for url, spec_id in _rounds(app, rounds):
        counter["n"] = 0
        event.listen(engine, "before_cursor_execute", count)
        started = time.perf_counter()
        response = client.post(url, data={**_answers(spec_id), "_action": "complete"})
        samples.append((time.perf_counter() - started) * 1000)
        event.remove(engine, "before_cursor_execute", count)
        statements.append(counter["n"])
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        client.get(response.headers["Location"])  # as a browser does; it also consumes the flash message
    return samples, statements


def _engine(app):
    with app.app_context():
        return db.engine


def bench_server(app, rounds: int) -> list[float]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    token = _csrf(opener.open(f"{base}/login").read().decode())
    _post(opener, f"{base}/login", {"username": "bench", "password": PASSWORD, "csrf_token": token})
    token = _csrf(opener.open(f"{base}/tasks").read().decode())  # login starts a fresh session
    samples = []
    try:
        for path, spec_id in _rounds(app, rounds):
            data = {**_answers(spec_id), "_action": "complete", "csrf_token": token}
            started = time.perf_counter()
            status, location = _post(opener, base + path, data)
            samples.append((time.perf_counter() - started) * 1000)
            assert status == 302, status
            opener.open(urllib.parse.urljoin(base, location)).read()  # follow, as a browser does
    finally:
        server.shutdown()
    return samples


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _post(opener, url: str, data: dict) -> tuple[int, str]:
    body = urllib.parse.urlencode(data).encode()
    try:
        with opener.open(urllib.request.Request(url, data=body, method="POST")) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "")


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100, help="instances per measurement (2 tasks each)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = build(url, csrf=True)
    app.config["WTF_CSRF_ENABLED"] = False
    engine_ms = bench_engine(app, args.rounds)
    client_ms, statements = bench_client(app, args.rounds)
    app.config["WTF_CSRF_ENABLED"] = True
    server_ms = bench_server(app, args.rounds)
    print(f"database: {url.split('@')[-1]}   completions per path: {2 * args.rounds} "
          f"(yq_aftermath: summary, then approval)")
    print(f"engine  (load+complete+dump) {percentiles(engine_ms)}")
    print(f"client  (Flask test client)  {percentiles(client_ms)}")
    print(f"server  (HTTP on loopback)   {percentiles(server_ms)}")
    print(f"SQL statements per completion: median {statistics.median(statements):.0f}, max {max(statements)}")


if __name__ == "__main__":
    main()
