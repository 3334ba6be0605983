"""Benchmark: whole incidents worked over HTTP against gunicorn, as people work them.

Usage: .venv/bin/python bench/incident_path.py [--backend sqlite|postgresql|both] [--clients 1,4]
                                               [--incidents 2] [--path level4,level1]

For each database and number of clients it migrates a fresh database, deploys processes/ and forms/,
creates the demo accounts, pins the controlled clock, starts gunicorn with the repository's
gunicorn.conf.py on `bench.wsgi:app` (which reports SQL statements and CPU per request in response
headers), and lets each client work `--incidents` incidents from the quick report to the archive
with tests/e2e's Walk: the person whose worklist shows a task opens it, claims it, fills the form
from tests/e2e/answers.py and submits it; when nobody has anything to do, the clock moves to the
next timer and the bench fires it (as the worker would). The level-4 path is
`answers.INCIDENT`, the level-1 path `answers.LEVEL1`.

Printed per run: for each kind of request its count, p50/p95/max milliseconds (client side), SQL
statements and server CPU per request (median); completions and incidents per second; and, for
the first incident, the stored state size after every completion next to the bare-engine floor
(restore + complete + serialize the same state with the same data, no database or HTTP).
PostgreSQL: --database-url names a server database to create bench databases in
(default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import floor  # noqa: E402
from bench.http_client import HttpClient, Sample  # noqa: E402

PEOPLE = ["monitor", "office", "leader", "deputy", "publicity", "spokesperson", "commentator", "section"]
START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


class DbClock:
    """The controlled clock, pinned in the database (the server reads it) and held here."""

    def __init__(self, app):
        self.app, self.value, self.lock = app, START, threading.Lock()
        self.set(START)

    def __call__(self) -> datetime:
        return self.value

    def set(self, when: datetime) -> None:
        from app.operations import clock as clock_ops  # noqa: PLC0415

        with self.lock:
            if when < self.value and when != START:
                return  # another client already moved it further
            self.value = when
            with self.app.app_context():
                clock_ops.set_clock(when)

    def advance(self, delta) -> None:
        self.set(self.value + delta)


def prepare(url: str):
    from flask_migrate import upgrade  # noqa: PLC0415

    from app import clock, create_app  # noqa: PLC0415
    from app.operations import deploy, profiles, users  # noqa: PLC0415

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "YQ_ENV": "development",
                      "CONTROLLED_CLOCK": True, "RATELIMIT_ENABLED": False, "INSTANCE_PATH": tempfile.mkdtemp()})
    with app.app_context():
        upgrade()
        users.ensure_roles_and_units()
        profiles.ensure_profiles()
        deploy.deploy_processes(*deploy.read_directory(ROOT / "processes", ROOT / "forms"), note="bench")
        accounts = {a.username: a.password for a in users.seed_demo_users(must_change_password=False)}
    fixed = DbClock(app)
    clock.set_source(fixed)
    return app, accounts, fixed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(url: str, port: int, full_state: bool = False, profile_dir: str = "") -> subprocess.Popen:
    """gunicorn on bench.wsgi:app; ready when *it* answers (the token proves it is not another server)."""
    token = uuid.uuid4().hex
    log_path = Path(tempfile.mkdtemp()) / "gunicorn.log"
    env = {**os.environ, "YQ_BENCH_TOKEN": token, "YQ_DATABASE_URL": url, "YQ_ENV": "development",
           "YQ_SECRET_KEY": "bench", "YQ_WORKER": "off", "YQ_INSTANCE_PATH": tempfile.mkdtemp(),
           "GUNICORN_BIND": f"127.0.0.1:{port}", "YQ_BENCH_FULL_STATE": "1" if full_state else "",
           "YQ_BENCH_PROFILE": profile_dir}
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "gunicorn.conf.py",
                               "--access-logfile", "/dev/null", "bench.wsgi:app"],
                              cwd=ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
                if response.status == 200 and response.headers.get("X-Bench-Server") == token:
                    return server
        except OSError:
            pass
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log_path.read_text()[-2000:]}")
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 120 s")


def worker_pids(server: subprocess.Popen) -> list[int]:
    """gunicorn's workers: the master's children."""
    return [int(pid) for pid in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()]


def rss_kb(pid: int) -> int:
    """Resident set size of a process, kB (0 once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)


def server_cpu_seconds(server: subprocess.Popen) -> float:
    """CPU of gunicorn's workers (children of the master) so far."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for child in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split():
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


@dataclass
class Run:
    """What the clients of one measurement share."""

    app: object
    accounts: dict[str, str]
    clock: DbClock
    port: int
    answers: dict
    incidents: int
    log: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    records: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    spans: list = field(default_factory=list)


def run_client(run: Run) -> None:
    app, accounts, clock_, port, answers, incidents = (run.app, run.accounts, run.clock, run.port, run.answers,
                                                       run.incidents)
    log, lock, records, errors, spans = run.log, run.lock, run.records, run.errors, run.spans
    from tests.e2e.browser import Browser  # noqa: PLC0415

    try:
        with app.app_context():
            people = {}
            for name in PEOPLE:
                browser = Browser(HttpClient("127.0.0.1", port, log, lock), name)
                browser.login(name, accounts[name])
                people[name] = browser
            began = time.monotonic()
            workers: dict[str, str] = {}
            for _ in range(incidents):
                walk = floor.RecordingWalk(people, {k: list(v) for k, v in answers.items()}, clock_,
                                           crawl=False, follow_new=False)
                walk.workers = workers
                walk.start("monitor", "/tasks", "登记新舆情(快报)")
                try:
                    walk.run(max_rounds=2000)
                except AssertionError as exc:  # an incident that could not be worked is counted, not fatal
                    walk._fresh()
                    instance = walk.instance(walk.instance_ids[0])
                    errors.append(AssertionError(f"{exc} [instance {instance.status}: {instance.error_element} "
                                                 f"{(instance.error_text or '')[:200]}] "
                                                 + str([(t.spec_id, t.assignee_id, t.unit_code, t.addressed_to_id,
                                                         t.candidate_roles_text, t.due_at)
                                                        for t in walk.open_tasks()])))
                    continue
                with lock:
                    records.append(walk.records)
            spans.append((began, time.monotonic()))
    except Exception as exc:  # reported by the caller; one client's failure must not hang the others
        errors.append(exc)


def kind(sample: Sample) -> str | None:
    """The operation a request was (None: logins, not part of the work)."""
    path, method = sample.path, sample.method
    if path.startswith("/login"):
        return None
    if method == "POST" and path.startswith("/tasks/"):
        return {"complete": "complete task", "claim": "claim task"}.get(sample.action, f"task {sample.action}")
    if method == "POST" and (path == "/tasks" or path.startswith(("/incidents", "/instances"))):
        return "register incident"
    if method == "GET" and path.startswith("/tasks"):
        return "worklist" if path == "/tasks" else "task page"
    return f"{method} /{path.strip('/').split('/')[0]}"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))]


def report(title: str, samples: list[Sample], seconds: float, incidents: int, cpu: float) -> dict:
    groups: dict[str, list[Sample]] = {}
    for sample in samples:
        name = kind(sample)
        if name:
            groups.setdefault(name, []).append(sample)
    print(f"\n== {title}: {incidents} incidents in {seconds:.1f} s = {incidents / seconds:.2f} incidents/s; "
          f"server CPU {cpu:.1f} s for {len(samples)} requests")
    print(f"{'operation':20} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'SQL':>5} {'CPU ms':>7}")
    for name in sorted(groups, key=lambda n: -len(groups[n])):
        group = groups[name]
        ms = [s.ms for s in group]
        print(f"{name:20} {len(group):5} {pct(ms, .5):8.1f} {pct(ms, .95):8.1f} {max(ms):8.1f} "
              f"{statistics.median(s.statements for s in group):5.0f} "
              f"{statistics.median(s.cpu_ms for s in group):7.1f}")
    completions = groups.get("complete task", [])
    print(f"completions: {len(completions)} = {len(completions) / seconds:.1f}/s")
    return {"completions": completions, "groups": groups}


def print_ratio(completions: list[Sample], median_floor: float | None) -> None:
    """A completion next to the bare engine on the same states: server CPU and client p50 over the
    median floor (issue 13 aims at 3.5× or less)."""
    if not completions or not median_floor:
        return
    cpu = statistics.median(s.cpu_ms for s in completions)
    wall = pct([s.ms for s in completions], .5)
    print(f"complete task ÷ engine floor (median {median_floor:.1f} ms on these states): "
          f"server CPU {cpu:.1f} ms = {cpu / median_floor:.1f}×, p50 {wall:.1f} ms = {wall / median_floor:.1f}×")


def measure(app, accounts: dict, clock_: DbClock, port: int, scenario: dict, count: int, incidents: int) -> Run:
    """`count` clients working `incidents` incidents each, at once."""
    run = Run(app, accounts, clock_, port, scenario, incidents)
    threads = [threading.Thread(target=run_client, args=(run,)) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for error in run.errors:
        print(f"!! an incident failed: {str(error)[:300]}")
    return run


def bench_backend(backend: str, url: str, paths: list[str], clients: list[int], incidents: int,
                  rss_completions: int = 0, profile: str = "") -> None:
    from tests.e2e import answers  # noqa: PLC0415

    app, accounts, clock_ = prepare(url)
    port = free_port()
    profile_dir = tempfile.mkdtemp() if profile else ""
    server = start_server(url, port, profile_dir=profile_dir)
    try:
        for path in paths:
            scenario = {"level4": answers.INCIDENT, "level1": answers.LEVEL1}[path]
            for count in clients:
                cpu_before = server_cpu_seconds(server)
                run = measure(app, accounts, clock_, port, scenario, count, incidents)
                if not run.spans:
                    continue
                began = min(b for b, _e in run.spans)
                seconds = max(end for _b, end in run.spans) - began
                log = [s for s in run.log if s.started >= began]  # not the logins
                figures = report(f"{backend} {path} {count} client(s)", log, max(seconds, 1e-3), len(run.records),
                                 server_cpu_seconds(server) - cpu_before)
                if count == clients[0] and run.records:
                    with app.app_context():
                        median_floor = floor.print_states(max(run.records, key=len))
                    print_ratio(figures["completions"], median_floor)
        if rss_completions:
            rss_check(app, accounts, clock_, port, server, answers.INCIDENT, rss_completions)
    finally:
        server.terminate()
        server.wait(timeout=30)
    if profile:
        write_profile(profile_dir, profile, backend)


def rss_check(app, accounts: dict, clock_: DbClock, port: int, server: subprocess.Popen, scenario: dict,
              completions: int) -> None:
    """One client works level-4 incidents until `completions` completions are done; each web worker's
    RSS is read after every incident. Flat: the last reading within ±10 % of the first (taken after the
    first incident, when the caches are warm)."""
    pids = worker_pids(server)
    readings: list[tuple[int, list[int]]] = []
    done = 0
    while done < completions:
        run = measure(app, accounts, clock_, port, scenario, 1, 1)
        done += sum(1 for sample in run.log if kind(sample) == "complete task")
        readings.append((done, [rss_kb(pid) for pid in pids]))
        if not run.records:
            break
    report_rss(readings, f"web worker RSS over {done} completions (level 4, 1 client; workers {pids})")


def report_rss(readings: list[tuple[int, list[int]]], title: str, every: int = 1) -> None:
    """Each `every`th reading (and the last) of the workers' RSS after n completions, and the verdict:
    flat when the last reading is within ±10 % of the first."""
    print(f"\n== {title}")
    for index, (count, values) in enumerate(readings):
        if index % every == 0 or index == len(readings) - 1:
            print(f"after {count:6} completions: " + "  ".join(f"{value / 1024:7.1f} MB" for value in values))
    first, last = readings[0][1], readings[-1][1]
    changes = [(b - a) / a * 100 if a else 0.0 for a, b in zip(first, last, strict=True)]
    verdict = "flat (within ±10 %)" if all(abs(c) <= 10 for c in changes) else "NOT flat (beyond ±10 %)"
    print("change from the first reading: " + "  ".join(f"{c:+.1f} %" for c in changes) + f" — {verdict}")


def write_profile(profile_dir: str, target: str, backend: str) -> None:
    """Merge the workers' cProfile figures of every completion and write the top functions as text."""
    import io  # noqa: PLC0415
    import pstats  # noqa: PLC0415

    files = sorted(Path(profile_dir).glob("completion.*.prof"))
    if not files:
        print("!! no completion was profiled")
        return
    out = io.StringIO()
    stats = pstats.Stats(*map(str, files), stream=out)
    out.write(f"cProfile of every task completion (POST, the redirect not included) on the level-4 path, "
              f"{backend}, gunicorn worker threads; {platform_line()}\n")
    stats.strip_dirs().sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue())
    stats.dump_stats(f"{path}.prof")  # the merged raw figures, for pstats or snakeviz (not committed)
    print(f"profile of the completions written to {path} (raw: {path}.prof)")


def compaction_table(url: str) -> None:
    """One level-4 incident with compaction off (the server stores SpiffWorkflow's whole state), then
    one with it on: state size and bare-engine floor per completion, side by side."""
    from app.engine import runner, state  # noqa: PLC0415
    from tests.e2e import answers  # noqa: PLC0415

    app, accounts, clock_ = prepare(url)
    runs = []
    for full in (True, False):
        port = free_port()
        server = start_server(url, port, full_state=full)
        compacting = runner.dump_state
        if full:  # the bench fires timers in this process: store whole states here too
            runner.dump_state = state.dump_full_state
        try:
            runs.append(measure(app, accounts, clock_, port, answers.INCIDENT, 1, 1))
        finally:
            runner.dump_state = compacting
            server.terminate()
            server.wait(timeout=30)
    with app.app_context():
        floor.print_compaction(runs[0].records[0], runs[1].records[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--clients", default="1,4")
    parser.add_argument("--incidents", type=int, default=2, help="incidents per client")
    parser.add_argument("--path", default="level4,level1")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--rss-completions", type=int, default=150, metavar="N",
                        help="after the runs, work level-4 incidents until N completions and report the web "
                             "workers' RSS; 0 skips it (150: about 5 minutes on a busy 2-core machine)")
    parser.add_argument("--profile", metavar="FILE", default="",
                        help="cProfile every completion in the server and write the top functions to FILE "
                             "(the timings of that run include the profiler's cost)")
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    paths = args.path.split(",")
    print(f"machine: {os.cpu_count()} CPUs, {platform_line()}")
    if args.backend in ("sqlite", "both"):
        only = args.backend == "sqlite"  # with both, the RSS check and the profile run on PostgreSQL
        bench_backend("sqlite", f"sqlite:///{tempfile.mkdtemp()}/bench.db", paths, clients, args.incidents,
                      args.rss_completions if only else 0, args.profile if only else "")
        compaction_table(f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    if args.backend in ("postgresql", "both"):
        with floor.postgres_database(args.database_url) as url:
            bench_backend("postgresql", url, paths, clients, args.incidents, args.rss_completions, args.profile)


def platform_line() -> str:
    import platform  # noqa: PLC0415

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "?")
    return f"{model}, Python {platform.python_version()}"


if __name__ == "__main__":
    main()
