"""Observability: /healthz, the Prometheus /metrics and the admin dashboard, on the real database."""

from __future__ import annotations

import ast
import math
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app import create_app
from app.db import transaction
from app.engine.services import SideEffect
from app.jobs import registry
from app.models import HumanTask, Incident, InstanceStatus, JobStatus, ProcessInstance, TaskStatus
from app.operations import instances, interventions, jobs, ledger, ledger_reading, statistics, timer_firing
from tests.conftest import ROOT, login
from tests.web.scenario import act_as, start_incident, submit

OUTSIDE = {"REMOTE_ADDR": "10.1.2.3"}
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"')
BOUNDS = ("60", "300", "900", "1800", "3600", "14400", "43200", "86400", "+Inf")


# -- helpers ------------------------------------------------------------------------------------------


def parse_metrics(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Parse the text exposition strictly: every line is a sample or # HELP / # TYPE, each family typed once."""
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    typed: dict[str, str] = {}
    assert body.endswith("\n")
    for line in body.splitlines():
        if line.startswith("# HELP "):
            assert len(line.split(" ", 3)) == 4, line
            continue
        if line.startswith("# TYPE "):
            _hash, _type, name, kind = line.split(" ")
            assert kind in ("gauge", "counter", "histogram") and name not in typed, line
            typed[name] = kind
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        family = base if typed.get(base) == "histogram" else name
        assert family in typed, f"sample before its # TYPE: {line!r}"
        key = (name, tuple(sorted(LABEL.findall(labels or ""))))
        assert key not in samples, f"duplicate sample {line!r}"
        samples[key] = float(value)  # float() reads +Inf and NaN as Prometheus writes them
    return samples


def scrape(client, **kwargs) -> dict:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse_metrics(response.get_data(as_text=True))


def value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def buckets(samples: dict) -> list[float]:
    return [value(samples, "yuqing_task_completion_seconds_bucket", le=bound) for bound in BOUNDS]


def _incident(user, level: int | None = None):
    instance = instances.start_incident(user)
    if level is not None:
        _record(instance, "level_confirmed", {"confirmed_level": level, "lead_unit": "policy"})
    return instance


def _record(instance, kind: str, data: dict, **params) -> None:
    with transaction() as session:
        ledger.record_effect(session, instance, SideEffect("ledger", {"kind": kind, **params}, "st", "p", "g", data))


def _open_tasks(db, instance) -> list[HumanTask]:
    return list(db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                           HumanTask.status == TaskStatus.OPEN)
                                   .order_by(HumanTask.id)))


def _set_due(db, instance, due_at) -> HumanTask:
    """Give every open task of the instance one due time; return the first of them."""
    with transaction():
        rows = _open_tasks(db, instance)
        for row in rows:
            row.due_at = due_at
    assert rows, "the incident should wait for a person"
    return rows[0]


def _failed_job() -> int:
    with transaction() as session:
        job = jobs.enqueue(session, "no_such_kind", {})
    registry.run_due("test")
    return job.id


def _completed_task(instance, seconds: float, now) -> None:
    with transaction() as session:
        session.add(HumanTask(instance_id=instance.id, task_guid=f"done-{seconds}", process_id="p", spec_id="ut_x",
                              name="已办任务", status=TaskStatus.COMPLETED, created_at=now - timedelta(seconds=seconds),
                              completed_at=now))


# -- /healthz ------------------------------------------------------------------------------------------


def test_healthz_is_ok_with_a_fresh_heartbeat_and_says_so_in_json(client, fake_clock):
    jobs.heartbeat("celery-beat", "beat@node1", {"resent": 0})
    beat_at = fake_clock.current
    fake_clock.advance(seconds=30)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"status", "database", "worker", "instances", "demo_accounts", "ratelimit"}
    assert body["status"] == "ok"
    assert body["instances"] == {"error": 0} and body["ratelimit"] == {"ok": True}
    assert body["demo_accounts"] == {"count": 0, "login_refused": False}
    assert body["database"]["ok"] is True and body["database"]["error"] is None
    assert isinstance(body["database"]["latency_ms"], float)
    assert body["worker"]["ok"] is True and body["worker"]["age_seconds"] == 30
    assert body["worker"]["last_heartbeat"] == beat_at.isoformat()
    assert body["worker"]["stale_after_seconds"] == 120


def test_healthz_is_degraded_but_200_when_the_worker_heartbeat_is_stale(client, fake_clock):
    assert client.get("/healthz").get_json()["status"] == "degraded"  # no worker has ever beaten
    jobs.hold_lease("embedded-worker", "web-1", 60, {"kind": "embedded"})
    fake_clock.advance(seconds=120)
    assert client.get("/healthz").get_json()["status"] == "ok"  # the threshold itself is still fresh
    fake_clock.advance(seconds=1)
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "degraded" and body["database"]["ok"] is True
    assert body["worker"] == {**body["worker"], "ok": False, "age_seconds": 121}
    jobs.heartbeat("celery-beat", "beat@node2")  # the newest heartbeat of any worker counts
    assert client.get("/healthz").get_json()["status"] == "ok"


def test_healthz_is_degraded_while_an_instance_is_in_error(client, fake_clock, user_factory):
    jobs.heartbeat("celery-beat", "beat@node1")
    instance = instances.start_incident(user_factory(["monitor"]))
    with transaction() as session:  # its stored state cannot be read any more
        session.execute(update(ProcessInstance).where(ProcessInstance.id == instance.id).values(state_json="{"))
    assert client.get("/healthz").get_json()["status"] == "ok"
    fake_clock.advance(minutes=31)
    jobs.heartbeat("celery-beat", "beat@node1")
    timer_firing.fire_due_timers()
    body = client.get("/healthz").get_json()
    assert body["status"] == "degraded" and body["instances"] == {"error": 1} and body["worker"]["ok"] is True


def test_healthz_fails_with_503_when_the_database_cannot_be_reached(tmp_path):
    broken = create_app({"YQ_ENV": "test", "TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                         "CONTROLLED_CLOCK": False,
                         "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"})
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "fail" and body["database"]["ok"] is False
    assert body["database"]["error"] == "OperationalError"
    assert body["worker"]["ok"] is False and body["worker"]["last_heartbeat"] is None


# -- /metrics ------------------------------------------------------------------------------------------


def test_metrics_parse_and_count_what_is_in_the_tables(client, db, fake_clock, user_factory):
    before = scrape(client)
    assert {status.value for status in InstanceStatus} == {
        dict(labels)["status"] for name, labels in before if name == "yuqing_instances"}
    assert {status.value for status in JobStatus} == {
        dict(labels)["status"] for name, labels in before if name == "yuqing_jobs"}
    assert value(before, "yuqing_worker_heartbeat_age_seconds") == math.inf  # no worker yet
    _failed_job()
    user = user_factory(["monitor"])
    broken, waiting, other = _incident(user), _incident(user), _incident(user)
    now = fake_clock.current
    with transaction() as session:
        session.get(ProcessInstance, broken.id).status = InstanceStatus.ERROR
        session.get(ProcessInstance, waiting.id).next_timer_at = now - timedelta(seconds=90)
        jobs.enqueue(session, "probe", {"key": "late"}, run_at=now - timedelta(seconds=40))
    _set_due(db, waiting, now - timedelta(minutes=5))
    _set_due(db, other, now + timedelta(hours=2))
    jobs.heartbeat("celery-beat", "beat@node1")
    fake_clock.advance(seconds=7)

    after = scrape(client)
    assert value(after, "yuqing_instances", status="error") - value(before, "yuqing_instances", status="error") == 1
    assert value(after, "yuqing_jobs", status="failed") - value(before, "yuqing_jobs", status="failed") == 1
    assert value(after, "yuqing_failures") - value(before, "yuqing_failures") == 2
    open_tasks = len(_open_tasks(db, broken)) + len(_open_tasks(db, waiting)) + len(_open_tasks(db, other))
    assert value(after, "yuqing_tasks_open") - value(before, "yuqing_tasks_open") == open_tasks
    assert value(after, "yuqing_tasks_overdue") - value(before, "yuqing_tasks_overdue") == len(_open_tasks(db, waiting))
    assert value(after, "yuqing_timer_lag_seconds") == 97
    assert value(after, "yuqing_job_lag_seconds") == 47  # the probe waited longest
    assert value(after, "yuqing_job_queue_depth") >= 1
    assert value(after, "yuqing_worker_heartbeat_age_seconds") == 7


def test_queue_depth_counts_only_due_pending_jobs(client, fake_clock):
    before = scrape(client)
    now = fake_clock.current
    with transaction() as session:
        jobs.enqueue(session, "probe", {"key": "due"}, run_at=now - timedelta(seconds=5))
        jobs.enqueue(session, "probe", {"key": "later"}, run_at=now + timedelta(minutes=5))
    after = scrape(client)
    assert value(after, "yuqing_job_queue_depth") - value(before, "yuqing_job_queue_depth") == 1
    assert value(after, "yuqing_jobs", status="pending") - value(before, "yuqing_jobs", status="pending") == 2


def test_task_completion_histogram_is_cumulative_and_matches_the_tasks(client, fake_clock, user_factory):
    before = scrape(client)
    instance = _incident(user_factory(["monitor"]))
    durations = (30, 60, 200, 5000, 100_000)  # 60 s sits exactly on a bound: it belongs to le="60"
    for seconds in durations:
        _completed_task(instance, seconds, fake_clock.current)
    after = scrape(client)
    counts = buckets(after)
    assert counts == sorted(counts)  # cumulative
    assert counts[-1] == value(after, "yuqing_task_completion_seconds_count")
    delta = [b - a for a, b in zip(buckets(before), counts, strict=True)]
    assert delta == [2, 3, 3, 3, 3, 4, 4, 4, 5]
    assert value(after, "yuqing_task_completion_seconds_sum") - value(before, "yuqing_task_completion_seconds_sum") \
        == pytest.approx(sum(durations), abs=0.01)


def test_metrics_are_refused_outside_the_allowed_networks_unless_an_admin_asks(app, client, user_factory,
                                                                              monkeypatch):
    client.environ_base.update(OUTSIDE)  # every request of this client, the logins too
    assert client.get("/metrics").status_code == 404
    login(client, user_factory(["office_staff"]))
    assert client.get("/metrics").status_code == 404
    client.post("/logout")
    login(client, user_factory(["admin"]))
    assert ("yuqing_tasks_open", ()) in scrape(client)
    client.post("/logout")
    assert client.get("/metrics").status_code == 404
    monkeypatch.setitem(app.config, "METRICS_ALLOW", ["10.0.0.0/8"])
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 404  # no longer listed
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::ffff:10.9.9.9"}).status_code == 200


def test_the_default_metrics_networks_are_the_loopback_addresses(client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.2"}).status_code == 404


# -- the dashboard --------------------------------------------------------------------------------------


@pytest.mark.parametrize("roles", [["office_staff"], ["monitor"], ["group_leader"]])
def test_the_dashboard_does_not_exist_for_other_roles(client, user_factory, roles):
    login(client, user_factory(roles))
    assert client.get("/admin/dashboard").status_code == 404
    assert client.get("/admin/dashboard.json").status_code == 404


def test_the_dashboard_needs_a_login(client):
    assert client.get("/admin/dashboard").status_code == 302
    assert client.get("/admin/dashboard.json").status_code == 302


@pytest.mark.parametrize("role", ["admin", "office_director"])
def test_admin_and_office_director_see_the_dashboard_without_actions(client, user_factory, role):
    login(client, user_factory([role]))
    response = client.get("/admin/dashboard")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    scripts = re.findall(r"<script\b([^>]*)>", page)
    assert scripts and all("src=" in attributes for attributes in scripts)  # no inline script (CSP)
    assert '/static/vendor/chart.js/chart.umd.js' in page and '/static/js/dashboard.js' in page
    assert 'data-source-url="/admin/dashboard.json"' in page
    assert "<form" not in page.split("<main>", 1)[1]  # read-only: no action on the page itself
    assert "cdn" not in page.lower()


def test_the_chart_library_is_copied_from_npm_where_the_page_loads_it():
    spec = ast.literal_eval(re.search(r"FILES = (\{.*?\n\})", (ROOT / "tools" / "copy_assets.py").read_text(),
                                      re.DOTALL).group(1))
    assert spec["chart.js/dist/chart.umd.js"] == "chart.js/chart.umd.js"
    package = (ROOT / "package.json").read_text()
    assert re.search(r'"chart\.js": "\d+\.\d+\.\d+"', package)  # pinned exactly
    assert (ROOT / "app" / "static" / "js" / "dashboard.js").is_file()


def test_dashboard_json_reflects_tasks_incidents_failures_and_worker(client, db, fake_clock, user_factory):
    director = user_factory(["office_director", "monitor"])
    login(client, director)
    empty = client.get("/admin/dashboard.json").get_json()
    assert empty["tasks"]["urgent"] == [] and empty["worker"]["state"] == "无心跳"
    _failed_job()
    now = fake_clock.current
    late, soon, later = _incident(director, 2), _incident(director, 2), _incident(director, 4)
    ungraded = _incident(director)
    late_task = _set_due(db, late, now - timedelta(minutes=20))
    soon_task = _set_due(db, soon, now + timedelta(minutes=30))
    for instance in (later, ungraded):
        _set_due(db, instance, now + timedelta(hours=3))
    jobs.heartbeat("celery-beat", "beat@node1")

    data = client.get("/admin/dashboard.json").get_json()
    assert data["incidents"]["counts"] == [a + b for a, b in zip(empty["incidents"]["counts"], [0, 2, 0, 1, 1],
                                                                 strict=True)]
    assert data["incidents"]["labels"][1] == "Ⅱ级" and data["incidents"]["labels"][4] == "未定级"
    assert data["tasks"]["overdue"] == len(_open_tasks(db, late))
    assert data["tasks"]["due_soon"] == len(_open_tasks(db, soon))
    urgent = data["tasks"]["urgent"]
    assert urgent[0]["url"] == f"/tasks/{late_task.public_id}" and urgent[0]["state"] == "overdue"
    assert urgent[0]["due_at"] == "2026-11-25 08:40"  # Asia/Shanghai
    assert "已超时" in urgent[0]["remaining"] and late.business_key in urgent[0]["incident"]
    assert f"/tasks/{soon_task.public_id}" in [row["url"] for row in urgent]
    assert all(row["state"] in ("overdue", "soon") for row in urgent)  # the 3-hour task is not urgent
    # the office director may not open the failures page: no link to it
    assert data["failures"] == {"total": 1, "jobs": 1, "instances": 0, "url": None}
    assert data["worker"]["ok"] is True and data["worker"]["state"] == "正常"
    page = client.get("/admin/dashboard").get_data(as_text=True)
    assert f'data-field="tasks.overdue">{data["tasks"]["overdue"]}<' in page
    assert f'href="/tasks/{late_task.public_id}"' in page


def test_first_release_compliance_this_week_and_this_month(client, db, fake_clock, user_factory):
    """Wednesday 25 Nov 2026, 09:00 Shanghai: the week is 23–29 Nov, the month November."""
    director = user_factory(["office_director", "monitor"])
    login(client, director)
    met, missed, last_week, open_ = (_incident(director) for _ in range(4))
    _record(met, "deadlines_set", {"release_due_at": "2026-11-25T12:00:00+08:00"})
    _record(missed, "deadlines_set", {"release_due_at": "2026-11-25T09:30:00+08:00"})
    _record(last_week, "deadlines_set", {"release_due_at": "2026-11-20T18:00:00+08:00"})
    _record(open_, "deadlines_set", {"release_due_at": "2026-11-28T09:00:00+08:00"})
    fake_clock.advance(minutes=45)  # 09:45
    _record(met, "release_published", {"published_at": "2026-11-25T09:40:00+08:00"})
    _record(missed, "deadline_missed", {"release_due_at": "2026-11-25T09:30:00+08:00"}, deadline="first_release")
    # last week's release came a day late: recorded when it was published
    _record(last_week, "release_published", {"published_at": "2026-11-21T18:00:00+08:00"})

    data = client.get("/admin/dashboard.json").get_json()["compliance"]
    assert data["week"] == {"met": 1, "missed": 1, "pending": 1, "rate": "50%", "since": "11-23", "until": "11-29"}
    assert data["month"] == {"met": 1, "missed": 2, "pending": 1, "rate": "33%", "since": "11-01", "until": "11-30"}
    assert data["labels"] == ["按时", "超时", "未到期"]

    fake_clock.set(fake_clock.current + timedelta(days=3))  # Saturday 28 Nov 09:45: the open one is now late
    data = client.get("/admin/dashboard.json").get_json()["compliance"]
    assert (data["week"]["missed"], data["week"]["pending"]) == (2, 0)
    page = client.get("/admin/dashboard").get_data(as_text=True)
    assert 'data-field="compliance.week.missed">2<' in page


def _open_incidents_on_the_dashboard(actor) -> int:
    page = actor.get("/admin/dashboard").get_data(as_text=True)
    return int(re.search(r'data-field="incidents.total">(\d+)<', page).group(1))


def test_a_terminated_incident_is_no_longer_open_on_the_dashboard_in_the_ledger_or_in_statistics(
        app, db, fake_clock, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    admin = act_as(app, user_factory(["admin"]))
    kept = start_incident(monitor)
    assert submit(monitor, kept, "ut_register").status_code == 302
    ended = start_incident(monitor)
    assert submit(monitor, ended, "ut_register", title="重复登记的同一事件").status_code == 302
    assert _open_incidents_on_the_dashboard(admin) == 2

    page = admin.get(f"/instances/{ended.public_id}").get_data(as_text=True)
    version = re.search(r'data-testid="admin-panel" data-version="(\d+)"', page).group(1)
    fake_clock.advance(minutes=10)
    response = admin.post(f"/instances/{ended.public_id}/act",
                          {"action": "terminate", "version": version, "reason": f"与 {kept.business_key} 重复"})
    assert response.status_code == 302

    assert _open_incidents_on_the_dashboard(admin) == 1
    record = db.session.scalar(select(Incident).where(Incident.instance_id == ended.id))
    assert record.status == "terminated" and record.closed_at == fake_clock.current
    open_list = admin.get("/ledger/?status=open").get_data(as_text=True)
    assert kept.business_key in open_list and ended.business_key not in open_list
    terminated_list = admin.get("/ledger/?status=terminated").get_data(as_text=True)
    assert ended.business_key in terminated_list and kept.business_key not in terminated_list
    last, label, actor = ledger_reading.entries_of(record)[-1]
    assert (label, last.summary, actor) == ("流程终止", f"与 {kept.business_key} 重复", admin.user.display_name)
    day = timedelta(days=1)
    stats = statistics.period_stats(db.session, fake_clock.current - day, fake_clock.current + day)
    assert stats["total"] == 2 and stats["open_at_end"] == 1


def test_first_release_compliance_judges_a_terminated_incident_as_it_stood_when_it_ended(
        client, db, fake_clock, user_factory):
    director, admin = user_factory(["office_director", "monitor"]), user_factory(["admin"])
    login(client, director)
    before, late = _incident(director), _incident(director)
    for instance in (before, late):
        _record(instance, "deadlines_set", {"release_due_at": "2026-11-25T09:30:00+08:00"})
    fake_clock.advance(minutes=10)  # 09:10: ended before its first release fell due
    interventions.act(before.public_id, "terminate", None, admin, "误报")
    fake_clock.advance(minutes=30)  # 09:40: ended after it was missed
    interventions.act(late.public_id, "terminate", None, admin, "并入其他事件")
    fake_clock.advance(days=1)

    week = client.get("/admin/dashboard.json").get_json()["compliance"]["week"]
    assert (week["met"], week["missed"], week["pending"]) == (0, 1, 0)
