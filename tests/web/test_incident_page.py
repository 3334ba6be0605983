"""The incident for staff (/incidents/<number>): what it says, to whom, its print view and image previews."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models import Attachment, AuditEvent, Notification
from tests.forms import uploads
from tests.web import staff_world
from tests.web.scenario import open_task
from tests.web.staff_world import TITLE

people, incident = staff_world.people, staff_world.incident  # fixtures

STAGE_STATE = re.compile(r'data-stage="(\w+)"[^>]*>\s*<div class="stage__head"><span class="stage__name">([^<]+)</span>'
                         r'\s*<span class="stage__state">([^<]+)</span>')


def _stages(page: str) -> dict[str, tuple[str, str]]:
    return {code: (name, state) for code, name, state in STAGE_STATE.findall(page)}


def test_the_lead_units_head_reads_the_incident_its_stages_levels_deadlines_tasks_and_files(db, people, incident):
    own = people["own"]
    number = incident.business_key
    response = own.get(f"/incidents/{number}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert TITLE in page and "社会保险科" in page and "微博" in page and "自行监测" in page
    stages = _stages(page)
    assert [name for name, _ in stages.values()] == ["快报", "定级", "响应", "跟踪", "善后", "归档"]
    assert stages["report"][1] == "已完成" and stages["grade"][1] == "已完成"
    assert stages["response"][1] == "进行中" and stages["archive"][1] == "未开始"
    strip = page.split('data-testid="stages"')[1].split("</ol>")[0]
    assert "登记舆情(快报)" in strip and "王主任" in strip and "确认定级" in strip  # who did what
    levels = page.split('data-testid="levels"')[1].split("</ol>")[0]
    assert "确认定级" in levels and "Ⅳ级" in levels
    assert 'data-testid="deadlines"' in page and "快报(发现后30分钟内)" in page
    tasks = page.split('data-testid="open-tasks"')[1].split("</ul>")[0]
    consult = open_task(incident, "ut_consult")
    assert f'href="/tasks/{consult.public_id}"' in tasks and "会商研判" in tasks
    shot = db.session.scalar(select(Attachment).where(Attachment.instance_id == incident.id))
    files = page.split('data-testid="files"')[1].split("</ul>")[0]
    assert f'src="/attachments/{shot.public_id}/preview"' in files and "截图.png" in files
    assert f"{len(uploads.PNG)} 字节" in files and "0.0 KB" not in files  # a small file's size, as read

    preview = own.get(f"/attachments/{shot.public_id}/preview")
    assert preview.status_code == 200 and preview.data == uploads.PNG and preview.mimetype == "image/png"
    assert preview.headers["Content-Disposition"].startswith("inline;")
    assert "sandbox" in preview.headers["Content-Security-Policy"] and preview.headers["X-Content-Type-Options"]


def _timeline(actor, instance) -> str:
    page = actor.get(f"/instances/{instance.public_id}").get_data(as_text=True)
    return page.split('data-testid="timeline"')[1].split("</ol>")[0]


def test_thumbnails_shown_in_pages_are_not_recorded_but_a_download_is(db, people, incident):
    own, admin = people["own"], people["admin"]
    shot = db.session.scalar(select(Attachment).where(Attachment.instance_id == incident.id))
    before = _timeline(admin, incident)
    for _ in range(3):  # the incident page, the lead card, a second look: the same picture shown inline
        assert own.get(f"/attachments/{shot.public_id}/preview").status_code == 200
    assert _timeline(admin, incident) == before and "预览附件" not in before
    assert own.get(f"/attachments/{shot.public_id}").headers["Content-Disposition"].startswith("attachment;")
    after = _timeline(admin, incident)
    assert after.count("下载附件 · 社保科长") == 1 and "预览附件" not in after
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == own.user.id)).all()
    assert "attachment_previewed" not in actions and actions.count("attachment_downloaded") == 1


def test_another_units_head_finds_neither_the_incident_nor_its_files(db, people, incident):
    other = people["other"]
    shot = db.session.scalar(select(Attachment).where(Attachment.instance_id == incident.id))
    for url in (f"/incidents/{incident.business_key}", f"/incidents/{incident.business_key}?print=1",
                f"/attachments/{shot.public_id}/preview"):
        response = other.get(url)
        text = response.get_data(as_text=True)
        assert response.status_code == 404 and TITLE not in text and "社保窗口" not in text
    assert other.get("/incidents/YQ-NO-SUCH").status_code == 404


def test_a_related_units_head_follows_the_incident_without_the_lead_units_tasks(db, people, incident):
    page = people["related"].get(f"/incidents/{incident.business_key}").get_data(as_text=True)
    assert TITLE in page
    consult = open_task(incident, "ut_consult")
    assert consult.public_id not in page and "没有您可以查看的待办环节" in page


def test_the_print_view_is_the_record_on_paper_without_the_menu(db, people, incident):
    leader = people["leader"]
    page = leader.get(f"/incidents/{incident.business_key}?print=1").get_data(as_text=True)
    assert 'data-testid="print-view"' in page and "/static/css/print.css" in page
    assert 'class="mainnav"' not in page and "内部资料 注意保密" in page
    assert TITLE in page and 'data-testid="deadlines"' in page and 'data-testid="entries"' in page
    assert "打印时间" in page and "李组长" in page
    screen = leader.get(f"/incidents/{incident.business_key}").get_data(as_text=True)
    assert f'href="/incidents/{incident.business_key}?print=1"' in screen


def test_task_pages_and_notices_link_to_the_incident_page(db, people, incident):
    consult = open_task(incident, "ut_consult")
    page = people["own"].get(f"/tasks/{consult.public_id}").get_data(as_text=True)
    assert f'href="/incidents/{incident.business_key}"' in page
    links = set(db.session.scalars(select(Notification.link).where(Notification.instance_id == incident.id,
                                                                   Notification.kind != "task_assigned")))
    # a notice takes each person to their own open task of the incident, else to the incident page
    assert f"/incidents/{incident.business_key}" in links
    assert all(link == f"/incidents/{incident.business_key}" or link.startswith("/tasks/") for link in links), links


def test_the_ledger_page_of_an_incident_is_its_record_and_leads_to_the_incident_page(db, people, incident):
    page = people["office"].get(f"/ledger/{incident.business_key}").get_data(as_text=True)
    assert 'data-testid="stages"' in page and 'data-testid="level-history"' in page and TITLE in page
    assert f'href="/incidents/{incident.business_key}"' in page  # open tasks and comments are the incident page's
    assert people["own"].get(f"/ledger/{incident.business_key}").status_code == 404  # the ledger stays theirs
