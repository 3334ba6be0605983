"""Benchmark: one user-task completion through the REST API (POST /api/v1/tasks/{id}/complete) against
gunicorn, with 1 and 4 clients, next to the bare engine step of the same task in the same run.

Usage: .venv/bin/python bench/api.py [--rounds 100] [--database-url URL] [--sqlite] [--workers 2]

Each round starts a fresh `yq_aftermath` instance (not timed) whose summary opens at once, and completes
two tasks through the API with a bearer token: the summary, then its approval. Prints p50/p95
milliseconds per completion and completions per second for 1 and 4 concurrent clients (each client
works its own instances), and the bare engine (load state + complete + run + dump, no database, no HTTP).
The database is a throw-away one created on the PostgreSQL server that --database-url (or BENCH_DATABASE_URL,
as for incident_path.py) points at, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres, and
dropped at the end; --sqlite uses a temporary SQLite file instead.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from complete_task import TYPED, _start_data, bench_engine, build, percentiles  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app.extensions import db  # noqa: E402
from app.models import HumanTask, TaskStatus  # noqa: E402
from app.operations import api_tokens, instances, users  # noqa: E402
from bench.floor import postgres_database  # noqa: E402
from bench.incident_path import platform_line, report_rss, rss_kb, worker_pids  # noqa: E402

PASSWORD = "bench password 123"
ANSWERS = {spec: {key: value for key, value in data.items()} for spec, data in TYPED.items()}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(url: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "YQ_DATABASE_URL": url, "YQ_SECRET_KEY": "bench", "YQ_ENV": "test",
           "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers), "YQ_WORKER": "off"}
    process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"),
                                "--access-logfile", "/dev/null", "app:create_app()"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn ended: {process.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=10).read()
            return process, base
        except OSError:  # refused while booting, or a first answer slower than the timeout
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def _post(base: str, path: str, token: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _prepare(app, count: int) -> list[int]:
    """Fresh aftermath instances (not timed); their ids."""
    ids = []
    with app.app_context():
        bench_user = users.authenticate("bench", PASSWORD)
        for _ in range(count):
            ids.append(instances.start_instance("yq_aftermath", bench_user, _start_data()).id)
    return ids


def _open_task(app, instance_id: int) -> tuple[str, str]:
    with app.app_context():
        task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                         HumanTask.status == TaskStatus.OPEN))
        return task.public_id, task.spec_id


def run_clients(app, base: str, token: str, rounds: int, clients: int) -> tuple[list[float], float]:
    """Each client completes both tasks of its share of `rounds` instances; (latencies ms, completions/s)."""
    ids = _prepare(app, rounds)
    shares = [ids[i::clients] for i in range(clients)]
    samples: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def work(share: list[int]) -> None:
        for instance_id in share:
            task_id, spec_id = _open_task(app, instance_id)
            for _task in range(2):
                started = time.perf_counter()
                status, body = _post(base, f"/api/v1/tasks/{task_id}/complete", token, {"data": ANSWERS[spec_id]})
                elapsed = (time.perf_counter() - started) * 1000
                if status != 200:
                    errors.append(f"{status} {body}")
                    return
                with lock:
                    samples.append(elapsed)
                following = body.get("next_task")
                if following is None:
                    break
                task_id, spec_id = following["id"], following["element"]
                if spec_id not in ANSWERS:
                    break

    threads = [threading.Thread(target=work, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise SystemExit(f"completion refused: {errors[0]}")
    return samples, len(samples) / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100, help="instances per measurement (2 tasks each)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
                        help="the PostgreSQL server to create a throw-away database on")
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (4 threads each)")
    parser.add_argument("--rss-completions", type=int, default=0, metavar="N",
                        help="after the measurement, 4 clients go on until N completions are done, and each "
                             "gunicorn worker's RSS is read every 500 (issue 13 asks for 50,000)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, {platform_line()}")
    if args.sqlite:
        measure(f"sqlite:///{tempfile.mkdtemp()}/bench.db", args.rounds, args.workers, args.rss_completions)
        return
    with postgres_database(args.database_url) as url:
        measure(url, args.rounds, args.workers, args.rss_completions)


def measure(url: str, rounds: int, workers: int, rss_completions: int = 0) -> None:
    """Engine, then 1 and 4 clients through the API, on the database at `url`."""
    app = build(url, csrf=False)
    with app.app_context():
        bench_user = users.authenticate("bench", PASSWORD)
        _row, token = api_tokens.issue_token(f"bench-{time.time_ns()}", None, scopes=["tasks:read", "tasks:work"],
                                             roles=sorted(bench_user.role_codes), rate_per_minute=api_tokens.MAX_RATE)
    engine_ms = bench_engine(app, rounds)
    server, base = start_gunicorn(url, workers)
    try:
        one, one_rate = run_clients(app, base, token, rounds, 1)
        four, four_rate = run_clients(app, base, token, rounds, 4)
        if rss_completions:
            rss_run(app, base, token, server, rss_completions)
    finally:
        server.terminate()
        server.wait(timeout=30)
        with app.app_context():
            db.engine.dispose()  # the throw-away database is dropped next
    print(f"database: {url.rsplit('@', maxsplit=1)[-1]}   gunicorn: {workers} workers x 4 threads   "
          f"completions per run: {2 * rounds} (yq_aftermath: summary, then approval)")
    print(f"engine    (load+complete+dump)  {percentiles(engine_ms)}")
    print(f"API  1 client                   {percentiles(one)}   {one_rate:6.1f} completions/s")
    print(f"API  4 clients                  {percentiles(four)}   {four_rate:6.1f} completions/s")


def rss_run(app, base: str, token: str, server: subprocess.Popen, completions: int, batch: int = 250) -> None:
    """4 clients complete `batch` instances' two tasks at a time until `completions` are done; each web
    worker's resident memory is read after every batch (the first reading, after one batch, has the
    caches warm)."""
    pids = worker_pids(server)
    readings: list[tuple[int, list[int]]] = []
    done, started = 0, time.perf_counter()
    while done < completions:
        samples, _rate = run_clients(app, base, token, min(batch, (completions - done + 1) // 2), 4)
        done += len(samples)
        readings.append((done, [rss_kb(pid) for pid in pids]))
    report_rss(readings, f"web worker RSS over {done} API completions, 4 clients, in "
                         f"{time.perf_counter() - started:.0f} s (workers {pids})", every=max(1, len(readings) // 20))


if __name__ == "__main__":
    main()
