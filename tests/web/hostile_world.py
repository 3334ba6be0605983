"""A small world with one of everything a page can show (an incident with open and finished tasks, a lead,
a batch, a saved filter, a failed job, a channel, an API token, a studio draft and a test run), a URL for
every GET route, and the forms its pages render."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.db import transaction
from app.extensions import db
from app.jobs import registry
from app.models import HumanTask, SandboxRun, TaskStatus
from app.operations import batches, deliveries, documents, instances, intake, jobs, migrations, sandbox, search, studio
from tests.conftest import PASSWORD, make_user
from tests.operations.console import DONE, console_v2, deploy_console
from tests.processes.answers import LEAD_UNIT
from tests.processes.flow import Flow
from tests.processes.levels import at_level
from tests.web.hostile import Form, local_path, parse_page
from tests.web.hostile_walks import ANSWERS


@dataclass
class World:
    """Everything one person with every role can see, and their logged-in client."""

    flow: Flow
    client: Any
    task: HumanTask
    done: HumanTask
    alert: Any
    batch: Any
    run: Any
    admin: Any = None  # a client of an admin with no other role (full worlds)
    extra: list[str] = field(default_factory=list)  # pages only full worlds have

    @property
    def user(self) -> Any:
        return self.flow.user


def build_world(app: Flask, *, full: bool = False) -> World:
    """Create the world through the operations (and the test client for what only pages make).

    `full` adds what only some forms need and costs time on every visit or at once: a studio draft (the
    studio page then validates the whole workspace), a second version of a process (migration forms)
    and an admin who holds no other role (the on-behalf form of tasks they cannot work on).
    """
    flow = Flow("yq_incident", incident=True, unit=LEAD_UNIT)
    flow.do("ut_register", **ANSWERS["ut_register"])
    flow.do("ut_confirm_level", **ANSWERS["ut_confirm_level"])  # level 4: timers and a message to wait for
    done = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == flow.instance.id,
                                                     HumanTask.status == TaskStatus.COMPLETED))
    alert, _created = intake.receive_alert({"source_type": "platform_alert", "title": "网传某窗口推诿",
                                            "url": "https://weibo.com/2/1", "external_ref": "w-1"}, source="监测平台")
    batch = batches.start_batch(flow.user, "suspend", "统一暂停", selected=[flow.instance.public_id])
    search.save_filter(flow.user, "等待中", search.parse_filter({"status": ["waiting"]}))
    with transaction() as session:
        jobs.enqueue(session, "no_such_kind", {})
    registry.run_due("hostile")
    deliveries.register_channel(deliveries.ChannelSpec("本机", "webhook", "http://127.0.0.1:8080/hook",
                                                       allow_networks=("127.0.0.0/8",), allow_http=True), flow.user)
    intake.issue_token("监测平台", flow.user)
    extra = _full_world(flow) if full else []
    client = _client(app, flow.user)
    started = client.post("/studio/sandbox", data={"process": "yq_release", "data": json.dumps(
        {"title": "试运行", "confirmed_level": 4, "release_approval": "group",
         "release_due_at": "2026-11-25T21:00:00+08:00"})})  # a deadline timer waits
    assert started.status_code == 302, started.get_data(as_text=True)[:300]
    run = db.session.scalars(select(SandboxRun).order_by(SandboxRun.id.desc())).first()
    if full:  # a non-executable draft: the studio's problem list offers to make it executable
        studio.save_draft("t_noexec.bpmn", _NOT_EXECUTABLE, flow.user, create=True)
    task = flow.task("ut_request_instruction")
    admin = _client(app, make_user(["admin"])) if full else None
    return World(flow, client, task, done, alert, batch, run, admin, extra)


def _client(app: Flask, user: Any) -> Any:
    client = app.test_client()
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    return client


def _full_world(flow: Flow) -> list[str]:
    """A draft, a process in two versions with an instance on the first and one moved to the second, a test
    run waiting for a timer; the pages that show their forms."""
    deploy_console()
    old = instances.start_instance("t_console", flow.user, {"divisor": 5, "title": "旧版本实例"})
    moved = instances.start_instance("t_console", flow.user, {"divisor": 5, "title": "已迁移实例"})
    deploy_console({"t_console.bpmn": console_v2()}, note="v2")
    studio.save_draft("ut_triage.schema.json", _triage_schema(), flow.user)
    migrations.migrate_instance(moved.public_id, moved.version, migrations.definition("t_console", 2).id, flow.user,
                                "迁移到新版本")
    run = sandbox.start(flow.user, "t_console", {"divisor": 5})
    run = sandbox.complete(run.public_id, run.open_tasks[0]["guid"], DONE, flow.user)  # a timer waits
    severe = at_level(2, netizen_attention="high")  # its external report attaches a generated 快报
    documents.generate_document("quick_report", severe.instance.business_key, flow.user)
    return [f"/tasks/{severe.task('ut_external_report').public_id}",
            f"/instances/{old.public_id}", f"/instances/{moved.public_id}", f"/studio/sandbox/{run.public_id}",
            "/admin/migrations?process=t_console&from=1&to=2",
            "/studio/processes/t_console"]  # 设为当前版本 of v1 (the user holds every role)


_NOT_EXECUTABLE = (b'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
                   b'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://x">'
                   b'<bpmn:process id="t_noexec" isExecutable="false"><bpmn:startEvent id="s"/></bpmn:process>'
                   b"</bpmn:definitions>")


def _triage_schema() -> bytes:
    with open("forms/ut_triage.schema.json", "rb") as handle:
        return handle.read()


def get_urls(world: World) -> dict[str, str]:
    """A URL of this world for every GET endpoint of the app (static files aside)."""
    instance, key, run = world.flow.instance, world.flow.instance.process_key, world.run.public_id
    return {
        "tasks.index": "/",
        "tasks.worklist": "/tasks",
        "tasks.task": f"/tasks/{world.task.public_id}",
        "tasks.new_incident": "/incidents/new",
        "tasks.download_attachment": "/attachments/00000000-0000-4000-8000-000000000000",
        "account.notifications": "/account/notifications",
        "account.delegations": "/account/delegation",
        "auth.password": "/account/password",
        "auth.login": "/login",
        "admin.api_tokens": "/admin/api-tokens",
        "admin.channels": "/admin/channels",
        "admin.failures": "/admin/failures",
        "admin.profile": "/admin/profile",
        "alerts.index": "/alerts",
        "alerts.new": "/alerts/new",
        "instances.batch_list": "/admin/batches",
        "instances.batch": f"/admin/batches/{world.batch.public_id}",
        "instances.batch_progress": f"/admin/batches/{world.batch.public_id}.json",
        "instances.migration_preview": f"/admin/migrations?process={key}",
        "instances.index": "/instances",
        "instances.export": "/instances.csv",
        "instances.detail": f"/instances/{instance.public_id}",
        "instances.diagram": f"/instances/{instance.public_id}/diagram/{key}.bpmn",
        "observability.dashboard": "/admin/dashboard",
        "observability.dashboard_json": "/admin/dashboard.json",
        "observability.healthz": "/healthz",
        "observability.metrics": "/metrics",
        "inbox.index": "/inbox",
        "ledger.index": "/ledger/",
        "ledger.export": "/ledger/export.csv",
        "ledger.export_xlsx": "/ledger/export.xlsx",
        "ledger.statistics_page": "/ledger/statistics",
        "documents.download": "/documents/00000000-0000-4000-8000-000000000000",
        "ledger.detail": f"/ledger/{world.flow.incident().number}",
        "incidents.detail": f"/incidents/{world.flow.incident().number}",
        "incidents.preview": "/attachments/00000000-0000-4000-8000-000000000000/preview",
        "start.risk_assessment": "/risk-assessments/new",
        "studio.index": "/studio/",
        "studio.validation_fragment": "/studio/validation",
        "studio.edit": "/studio/files/ut_triage.schema.json",
        "studio.source": "/studio/files/ut_triage.schema.json/source",
        "studio.versions": f"/studio/processes/{key}",
        "studio.diff": f"/studio/processes/{key}/diff?old=1&new=1",
        "studio.download": f"/studio/processes/{key}/v1/{key}.bpmn",
        "studio.sandbox_index": "/studio/sandbox",
        "studio.sandbox_run": f"/studio/sandbox/{run}",
        "studio.sandbox_diagram": f"/studio/sandbox/{run}/diagram/yq_release.bpmn",
        # the JSON API (a signed-in browser has no token: 401 problems; tests/api probes it with one)
        "api_docs.openapi": "/api/v1/openapi.json",
        "api_docs.docs": "/api/v1/docs",
        "api_docs.asset": "/api/v1/docs/assets/swagger-ui.css",
        "api_processes.list_processes": "/api/v1/processes",
        "api_processes.list_instances": "/api/v1/instances",
        "api_processes.get_instance": f"/api/v1/instances/{instance.public_id}",
        "api_tasks.list_tasks": "/api/v1/tasks",
        "api_tasks.get_task": f"/api/v1/tasks/{world.task.public_id}",
        "api_incidents.list_incidents": "/api/v1/incidents",
        "api_incidents.get_incident": f"/api/v1/incidents/{world.flow.incident().number}",
        "api_documents.list_incident_documents": f"/api/v1/incidents/{world.flow.incident().number}/documents",
        "api_documents.download_document":
            f"/api/v1/incidents/{world.flow.incident().number}/documents/quick_report",
        "api_reports.list_monthly": "/api/v1/reports/monthly",
        "api_reports.download_monthly": "/api/v1/reports/monthly/2026-11",
    }


def rendered_forms(client: Any, urls: list[str]) -> list[tuple[str, Form]]:
    """(page, form) for every distinct form on the pages, by action and field names."""
    found: dict[tuple[str, str, tuple[str, ...]], tuple[str, Form]] = {}
    for url in urls:
        response = client.get(url, buffered=True)
        if response.mimetype != "text/html":
            continue
        forms, _links = parse_page(response.get_data(as_text=True), url)
        for form in forms:
            action = local_path(form.action) or url
            key = (form.method, action.split("?", maxsplit=1)[0], tuple(sorted(set(form.names))))
            found.setdefault(key, (url, form))
    return list(found.values())
