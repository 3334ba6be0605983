"""Admins retry or dismiss failed jobs and register channels in the browser; people set their contacts."""

from __future__ import annotations

import re
from html import escape as html_escape
from html.parser import HTMLParser

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.db import transaction
from app.jobs import registry
from app.models import AuditEvent, Job, JobStatus, NotificationChannel, OrgProfile, ProcessInstance, User
from app.operations import deliveries, instances, jobs, profiles, timer_firing
from tests.conftest import login


def _failed_job():
    with transaction() as session:
        job = jobs.enqueue(session, "no_such_kind", {})
    registry.run_due("test")
    return job.id


def test_failures_page_lists_and_retries_and_dismisses(client, db, user_factory):
    login(client, user_factory(["admin"]))
    job_id = _failed_job()
    page = client.get("/admin/failures").get_data(as_text=True)
    assert "no_such_kind" in page and "unknown job kind" in page
    assert client.post(f"/admin/failures/{job_id}", data={"_action": "retry"}).status_code == 302
    assert db.session.get(Job, job_id).status == JobStatus.PENDING
    registry.run_due("test")
    refused = client.post(f"/admin/failures/{job_id}", data={"_action": "dismiss", "reason": ""})
    assert refused.status_code == 302 and db.session.get(Job, job_id).status == JobStatus.FAILED
    client.post(f"/admin/failures/{job_id}", data={"_action": "dismiss", "reason": "测试任务,不再需要"})
    assert db.session.get(Job, job_id).status == JobStatus.DISMISSED


def test_admin_pages_do_not_exist_for_others(client, user_factory):
    login(client, user_factory(["office_director"]))
    assert client.get("/admin/failures").status_code == 404
    assert client.get("/admin/channels").status_code == 404


def test_channel_registration_refuses_ssrf_targets_next_to_the_field(client, db, user_factory):
    login(client, user_factory(["admin"]))
    form = {"name": "本机", "kind": "webhook", "address": "http://127.0.0.1:8080/hook", "kinds": "*"}
    response = client.post("/admin/channels", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "field--error" in page and 'value="http://127.0.0.1:8080/hook"' in page
    allowed = client.post("/admin/channels", data={**form, "allow_networks": "127.0.0.0/8", "allow_http": "on"})
    assert allowed.status_code == 302
    channel = db.session.scalars(select(NotificationChannel)).one()
    assert channel.allow_networks == ["127.0.0.0/8"] and channel.allow_http
    client.post(f"/admin/channels/{channel.id}/deactivate")
    assert not db.session.get(NotificationChannel, channel.id).active


def test_people_set_their_own_contacts_and_sms_choice(client, db, user_factory):
    person = user_factory(["monitor"])
    login(client, person)
    bad = client.post("/account/notifications", data={"email": "not an address", "phone": "12", "sms": "urgent"})
    assert bad.status_code == 422 and 'value="not an address"' in bad.get_data(as_text=True)
    ok = client.post("/account/notifications", data={"email": "me@bureau.example", "phone": "13800000000",
                                                      "use_email": "on", "sms": "always"})
    assert ok.status_code == 302
    row = db.session.get(User, person.id)
    assert (row.email, row.phone) == ("me@bureau.example", "13800000000")
    assert 'value="always" selected' in client.get("/account/notifications").get_data(as_text=True)


def _failure_row(page: str, job_id: int) -> str:
    return re.search(rf'<tr data-job="{job_id}">.*?</tr>', page, re.DOTALL).group(0)


def test_each_failed_job_links_its_instance_and_its_channel(client, db, user_factory, fake_clock):
    channel = deliveries.register_channel(deliveries.ChannelSpec(
        "值班群", "webhook", "http://127.0.0.1:8080/hook", allow_networks=("127.0.0.0/8",), allow_http=True), None)
    incident = instances.start_incident(user_factory(["monitor"]))
    fake_clock.advance(minutes=31)  # the quick report is overdue: an urgent notice for the duty group
    timer_firing.fire_due_timers()
    deliveries.deactivate_channel(channel.id, None)  # so its delivery fails for good at once
    with transaction() as session:
        call = jobs.enqueue(session, "call_system", {"instance_id": incident.id, "task_guid": "g", "element": "st",
                                                     "channel": "上级报送系统", "payload": {}})
    other = _failed_job()
    registry.run_due("test")
    delivery_job = db.session.scalar(select(Job.id).where(Job.kind == deliveries.JOB_KIND))

    login(client, user_factory(["admin"]))
    page = client.get("/admin/failures").get_data(as_text=True)
    row = _failure_row(page, delivery_job)
    assert "通知发送" in row and f'<a href="/instances/{incident.public_id}">{incident.business_key}</a>' in row
    assert '<a href="/admin/channels">值班群</a>' in row
    row = _failure_row(page, call.id)
    assert "外部系统调用" in row and f'<a href="/instances/{incident.public_id}">{incident.business_key}</a>' in row
    assert '<a href="/admin/channels">上级报送系统</a>' in row  # named by the diagram, not registered yet
    assert "/instances/" not in _failure_row(page, other) and "/admin/channels" not in _failure_row(page, other)


class _ProfileForm(HTMLParser):
    """The profile form's fields as a browser would post them untouched (a select without a selected option
    posts its first one), and the page's visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self.text: list[str] = []
        self._in_form = False
        self._select: tuple[str, list[tuple[str, bool]]] | None = None
        self._textarea: str | None = None
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag in ("script", "style", "template"):
            self._hidden_depth += 1
        if tag == "form" and "taskform" in a.get("class", ""):
            self._in_form = True
        if tag == "option" and self._select is not None:
            self._select[1].append((a.get("value", ""), "selected" in a))
        if not self._in_form or self._hidden_depth or "name" not in a:
            return
        if tag == "input" and (a.get("type") not in ("checkbox", "radio") or "checked" in a):
            self.pairs.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = (a["name"], [])
        elif tag == "textarea":
            self._textarea = a["name"]

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.text.append(data)
        if self._textarea is not None:
            self.pairs.append((self._textarea, data))
            self._textarea = None

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self._hidden_depth -= 1
        elif tag == "form":
            self._in_form = False
        elif tag == "textarea" and self._textarea is not None:
            self.pairs.append((self._textarea, ""))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            name, options = self._select
            chosen = [value for value, selected in options if selected] or [options[0][0]]
            self.pairs.append((name, chosen[0]))
            self._select = None


def _profile_page(client, code="city"):
    response = client.get(f"/admin/profile?code={code}")
    assert response.status_code == 200
    parser = _ProfileForm()
    parser.feed(response.get_data(as_text=True))
    return response.get_data(as_text=True), parser


def _posted(pairs, **changes):
    """The page's pairs with `changes` (`report_within__unit` names `report_within.unit`) put in."""
    changes = {name.replace("__", "."): value for name, value in changes.items()}
    return MultiDict([(name, value) for name, value in pairs if name not in changes] + list(changes.items()))


ISO_CODES = re.compile(r"\bP\d+[DW]\b|\bP(\d+D)?T\d+[HMS]\b|\bR\d+/P|ISO ?8601")


def test_the_profile_page_asks_for_numbers_and_units_never_iso_codes(client, db, user_factory):
    login(client, user_factory(["admin"]))
    html, page = _profile_page(client)
    visible = " ".join(" ".join(page.text).split())
    assert not ISO_CODES.search(html), ISO_CODES.search(html)
    assert "PT" not in visible and "P7D" not in visible and "R3/" not in visible
    fields = dict(page.pairs)
    assert (fields["report_within"], fields["report_within.unit"]) == ("30", "minutes")
    assert (fields["aftermath_watch"], fields["aftermath_watch.unit"]) == ("7", "days")
    assert (fields["summary_due"], fields["summary_due.unit"]) == ("15", "days")
    assert (fields["approval_reminder"], fields["approval_reminder.unit"], fields["approval_reminder.times"]) == (
        "1", "hours", "3")
    assert '<option value="minutes" selected>分钟</option>' in html and "<option value=\"days\">天</option>" in html
    assert "每" in visible and "提醒一次,最多" in visible and "自发现时间起算" in visible


def test_a_profile_saved_as_shown_keeps_every_stored_value_exactly(client, db, user_factory):
    """What the page shows posts back as the stored ISO spellings, P1DT12H (shown as 36 小时) included."""
    with transaction() as session:
        session.get(OrgProfile, "city").values = {**profiles.CITY, "aftermath_watch": "P1DT12H"}
    before = dict(db.session.get(OrgProfile, "city").values)
    login(client, user_factory(["admin"]))
    _html, page = _profile_page(client)
    assert (dict(page.pairs)["aftermath_watch"], dict(page.pairs)["aftermath_watch.unit"]) == ("36", "hours")
    response = client.post("/admin/profile", data=_posted(page.pairs, reason="核对,未作修改"))
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OrgProfile, "city").values == before
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "profile_updated")).one()
    assert event.detail["changed"] == []


def test_a_changed_report_deadline_is_stored_as_iso_and_used_by_the_next_incident(client, db, user_factory):
    admin = user_factory(["admin", "monitor"])
    login(client, admin)
    _html, page = _profile_page(client)
    response = client.post("/admin/profile", data=_posted(page.pairs, report_within="45", report_within__unit="minutes",
                                                          reason="快报时限调整为45分钟"))
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(OrgProfile, "city").values
    assert stored == {**profiles.CITY, "report_within": "PT45M"}
    _html, page = _profile_page(client)
    assert (dict(page.pairs)["report_within"], dict(page.pairs)["report_within.unit"]) == ("45", "minutes")
    assert client.post("/incidents/new").status_code == 302
    instance = db.session.scalars(select(ProcessInstance).order_by(ProcessInstance.id.desc())).first()
    assert instance.data["report_due_at"] == "2026-11-25T09:45:00+08:00"


@pytest.mark.parametrize("changes", [
    {"report_within": "0"},
    {"report_within": "-30"},
    {"report_within": "99999", "report_within__unit": "days"},
    {"report_within": "9" * 25},
    {"report_within": "半小时"},
    {"report_within": "PT30M"},
    {"report_within__unit": "weeks"},
    {"approval_reminder__times": "0"},
    {"approval_reminder__times": "1001"},
    {"approval_reminder": "0"},
    {"approval_reminder__unit": "seconds"},
], ids=lambda changes: "-".join(f"{k}={v[:8]}" for k, v in changes.items()))
def test_refused_durations_show_at_their_field_keep_what_was_typed_and_change_nothing(client, db, user_factory,
                                                                                        changes):
    login(client, user_factory(["admin"]))
    before = dict(db.session.get(OrgProfile, "city").values)
    _html, page = _profile_page(client)
    response = client.post("/admin/profile", data=_posted(page.pairs, reason="试改", **changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field = next(iter(changes)).split("__")[0]
    block = re.search(rf'<div class="field field--(?:duration|cycle) field--error">(?:(?!<div class="field ).)*'
                      rf'id="field-{field}"(?:(?!<div class="field ).)*', html, re.DOTALL)
    assert block and 'class="field__error' in block.group(0), html
    for name, value in changes.items():
        if not name.endswith("__unit"):
            assert f'name="{name.replace("__", ".")}" value="{html_escape(value)}"' in block.group(0)
    assert html.count('class="field field--') - html.count("field--error") >= 20  # only that field is marked
    db.session.expire_all()
    assert db.session.get(OrgProfile, "city").values == before
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "profile_updated")).all()
