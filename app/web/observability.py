"""Observability: /healthz for load balancers, /metrics for Prometheus, and the admin dashboard.

Every figure is read from the database when asked (app.operations.monitoring), so any gunicorn
process of any node answers the same. /healthz needs no login; /metrics answers anonymous scrapes
only from the networks in METRICS_ALLOW (and logged-in admins anywhere); the dashboard is for
admins and the office director, read-only. Everyone else gets 404: the pages do not exist for them.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import timedelta
from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import limiter
from app.models import InstanceStatus, JobStatus
from app.operations import monitoring
from app.operations.vocabulary import level_short
from app.web.filters import element_name, localtime, remaining

bp = Blueprint("observability", __name__)

DASHBOARD_ROLES = ("admin", "office_director")
REFRESH_SECONDS = 15
PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


# -- /healthz ------------------------------------------------------------------------------------------


def _ratelimit_storage_ok() -> bool:
    """Can the rate limiter reach its storage (always true for memory://)? Else it counts in memory."""
    if not limiter.enabled or not limiter.initialized:
        return True
    try:
        return bool(limiter.storage.check())
    except Exception:  # any failure to ask is an unreachable storage
        return False


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    """ok / degraded (worker heartbeat stale, instances in error, usable demo passwords, rate-limit
    storage unreachable) with 200, fail (database) with 503."""
    config = current_app.config
    stale_after = float(config["HEALTH_WORKER_STALE_SECONDS"])
    demo_usable = config["DEMO_PASSWORDS_ALLOWED"] and config["YQ_ENV"] != "development"
    result = monitoring.health(stale_after, demo_accounts_degrade=demo_usable)
    worker = result.worker
    ratelimit_ok = _ratelimit_storage_ok()
    body = {
        "status": "degraded" if result.status == "ok" and not ratelimit_ok else result.status,
        "database": {"ok": result.database_ok, "latency_ms": result.database_ms, "error": result.database_error},
        "worker": {
            "last_heartbeat": worker.last_heartbeat.isoformat() if worker and worker.last_heartbeat else None,
            "age_seconds": round(worker.age_seconds, 1) if worker and worker.age_seconds is not None else None,
            "ok": bool(worker and worker.ok),
            "stale_after_seconds": stale_after,
        },
        "instances": {"error": result.error_instances},
        "demo_accounts": {"count": result.demo_accounts, "login_refused": not config["DEMO_PASSWORDS_ALLOWED"]},
        "ratelimit": {"ok": ratelimit_ok},
    }
    return jsonify(body), 503 if result.status == "fail" else 200


# -- /metrics ------------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _networks(allowed: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(network, strict=False) for network in allowed)


def _from_allowed_network() -> bool:
    allowed = current_app.config.get("METRICS_ALLOW") or ()
    if isinstance(allowed, str):
        allowed = [item.strip() for item in allowed.split(",") if item.strip()]
    try:
        address = ipaddress.ip_address((request.remote_addr or "").split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in _networks(tuple(allowed)))


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class _Exposition:
    """Lines of the Prometheus text format 0.0.4."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]

    def sample(self, name: str, value: float, **labels: str) -> None:
        label_text = ",".join(f'{key}="{_label(str(val))}"' for key, val in labels.items())
        self.lines.append(f"{name}{{{label_text}}} {_number(value)}" if labels else f"{name} {_number(value)}")

    def gauge(self, name: str, help_text: str, value: float) -> None:
        self.family(name, "gauge", help_text)
        self.sample(name, value)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def prometheus_text(figures: monitoring.Metrics) -> str:
    """The figures in the Prometheus text exposition format."""
    out = _Exposition()
    out.family("yuqing_instances", "gauge", "Process instances by status.")
    for status, count in figures.instances.items():
        out.sample("yuqing_instances", count, status=status)
    out.gauge("yuqing_tasks_open", "Open human tasks.", figures.tasks_open)
    out.gauge("yuqing_tasks_overdue", "Open human tasks past their due time.", figures.tasks_overdue)
    histogram = figures.task_completion
    out.family("yuqing_task_completion_seconds", "histogram",
               "Time from creation to completion of completed human tasks (from the task table at scrape time).")
    for bound, count in zip((*histogram.bounds, math.inf), histogram.cumulative, strict=True):
        out.sample("yuqing_task_completion_seconds_bucket", count, le=_number(bound))
    out.sample("yuqing_task_completion_seconds_sum", histogram.total_seconds)
    out.sample("yuqing_task_completion_seconds_count", histogram.count)
    out.family("yuqing_jobs", "gauge", "Background jobs by status.")
    for status, count in figures.jobs.items():
        out.sample("yuqing_jobs", count, status=status)
    out.gauge("yuqing_job_queue_depth", "Pending jobs that are due (run_at <= now).", figures.job_queue_depth)
    out.gauge("yuqing_job_lag_seconds", "Age of the oldest due pending job; 0 when none.", figures.job_lag_seconds)
    out.gauge("yuqing_timer_lag_seconds", "How long the oldest due timer of a waiting or running instance has "
              "waited to fire; 0 when none.", figures.timer_lag_seconds)
    out.gauge("yuqing_failures", f"Failures needing an admin: {JobStatus.FAILED} jobs plus instances in "
              f"{InstanceStatus.ERROR}.", figures.failures)
    age = figures.worker_heartbeat_age_seconds
    out.gauge("yuqing_worker_heartbeat_age_seconds", "Seconds since the newest worker heartbeat; +Inf when no "
              "worker ever sent one.", math.inf if age is None else age)
    return out.text()


@bp.route("/metrics")
def metrics() -> Response:
    """Prometheus scrape: from allowed networks without login, or for a logged-in admin; else 404."""
    if not _from_allowed_network() and not (current_user.is_authenticated and current_user.has_role("admin")):
        abort(404)
    return Response(prometheus_text(monitoring.metrics()), content_type=PROMETHEUS_TYPE)


# -- the dashboard --------------------------------------------------------------------------------------


def _allowed() -> None:
    if not current_user.has_role(*DASHBOARD_ROLES):
        abort(404)


def _rate(period: monitoring.Compliance) -> str:
    decided = period.met + period.missed
    return f"{round(100 * period.met / decided)}%" if decided else "—"


def _period(period: monitoring.Compliance) -> dict[str, Any]:
    return {"met": period.met, "missed": period.missed, "pending": period.pending, "rate": _rate(period),
            "since": localtime(period.since, "%m-%d"), "until": localtime(period.until - timedelta(days=1), "%m-%d")}


def _seconds(value: float | None) -> int | None:
    return None if value is None else int(value)


def dashboard_data(view: monitoring.Dashboard) -> dict[str, Any]:
    """The dashboard as JSON-ready data; times already in Asia/Shanghai, labels already translated."""
    levels = [1, 2, 3, 4, None]
    worker = view.worker
    states = {None: _("无心跳"), True: _("正常"), False: _("心跳超时")}
    worker_state = states[None if worker.last_heartbeat is None else worker.ok]
    return {
        "generated_at": localtime(view.now, "%Y-%m-%d %H:%M:%S"),
        "incidents": {
            "labels": [level_short(n, str(get_locale() or "")) if n else _("未定级") for n in levels],
            "counts": [view.incidents_by_level.get(n, 0) for n in levels],
            "total": sum(view.incidents_by_level.values()),
        },
        "tasks": {
            "overdue": view.tasks_overdue,
            "due_soon": view.tasks_due_soon,
            "urgent": [{"url": url_for("tasks.task", public_id=t.public_id), "name": element_name(t.name),
                        "incident": t.incident, "due_at": localtime(t.due_at), "remaining": remaining(t.due_at),
                        "state": "overdue" if t.due_at <= view.now else "soon"} for t in view.urgent],
        },
        "compliance": {
            "labels": [_("按时"), _("超时"), _("未到期")],
            "periods": [_("本周"), _("本月")],
            "week": _period(view.week),
            "month": _period(view.month),
        },
        "failures": {"total": view.failures, "jobs": view.failed_jobs, "instances": view.error_instances,
                     "url": url_for("admin.failures") if current_user.has_role("admin") else None},
        "worker": {
            "last_heartbeat": localtime(worker.last_heartbeat, "%Y-%m-%d %H:%M:%S") or "—",
            "age_seconds": _seconds(worker.age_seconds),
            "ok": worker.ok,
            "state": worker_state,
            "queue_depth": view.job_queue_depth,
            "job_lag_seconds": _seconds(view.job_lag_seconds),
            "timer_lag_seconds": _seconds(view.timer_lag_seconds),
        },
    }


def _current() -> dict[str, Any]:
    return dashboard_data(monitoring.dashboard(float(current_app.config["HEALTH_WORKER_STALE_SECONDS"])))


@bp.route("/admin/dashboard")
@login_required
def dashboard() -> str:
    """Running incidents, urgent tasks, first-response compliance, failures and worker health."""
    _allowed()
    return render_template("admin/dashboard.html", data=_current(), refresh_seconds=REFRESH_SECONDS)


@bp.route("/admin/dashboard.json")
@login_required
def dashboard_json() -> Response:
    """The same figures for the page's refresh every few seconds."""
    _allowed()
    return jsonify(_current())
