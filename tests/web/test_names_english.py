"""Names from the diagrams and the organisation's units in English on request (decision 115): the worklist,
task, incident, instance and admin pages and the studio name tasks, processes and units in English, the
studio's form preview reads the task pages' catalogue, and a name without English stays as written."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import update

from app.db import transaction
from app.models import OrgUnit
from tests.conftest import ROOT
from tests.web.scenario import FORMS, act_as, in_english, open_task, start_incident, submit

REGISTER = ("登记舆情(快报)", "Register incident (quick report)")
CONFIRM = ("确认定级与启动响应", "Confirm level and start response")
MAIN = ("舆情事件处置主流程", "Online incident response (main process)")
UNIT = ("社会保险科", "Social insurance section")


def test_the_worklist_and_the_task_page_name_the_task_inin_english(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    task = open_task(instance, "ut_register")
    chinese = monitor.page("/tasks")
    assert REGISTER[0] in chinese and REGISTER[1] not in chinese

    worklist = in_english(monitor).page("/tasks")
    rows = worklist[worklist.index("<tbody"):worklist.index("</tbody>")]
    assert f">{REGISTER[1]}</a>" in rows and REGISTER[0] not in rows
    # the filter offers the task by its English name and still filters by the diagram's name
    assert f'<option value="{REGISTER[0]}" >{REGISTER[1]}</option>' in worklist
    page = monitor.page(f"/tasks/{task.public_id}")
    assert f"<title>{REGISTER[1]} · " in page and REGISTER[0] not in page
    done = monitor.client.post(f"/tasks/{task.public_id}", data={**FORMS["ut_register"], "_action": "complete"},
                               follow_redirects=True).get_data(as_text=True)
    assert f"&#34;{REGISTER[1]}&#34; submitted." in done  # the message after a submission


def test_the_incident_page_names_open_tasks_and_units_inin_english(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director", "office_staff"]))
    instance = start_incident(monitor)
    submit(monitor, instance, "ut_register")
    chinese = office.page(f"/incidents/{instance.business_key}")
    assert f">{CONFIRM[0]}</a>" in chinese and f"<dd>{UNIT[0]}</dd>" in chinese

    page = in_english(office).page(f"/incidents/{instance.business_key}")
    assert f">{CONFIRM[1]}</a>" in page and CONFIRM[0] not in page
    assert f"<dd>{UNIT[1]}</dd>" in page and UNIT[0] not in page
    record = office.page(f"/ledger/{instance.business_key}")
    assert UNIT[1] in record and UNIT[0] not in record  # the ledger page of the incident
    task = office.page(f"/tasks/{open_task(instance, 'ut_confirm_level').public_id}")
    form = task[task.index('class="taskform"'):]
    assert f">{UNIT[1]}" in form and UNIT[0] not in form  # the lead unit's choices and the context above


def test_a_unit_without_an_english_name_keeps_its_chinese_name(app, db, user_factory, fake_clock):
    db.session.execute(update(OrgUnit).where(OrgUnit.code == "social_insurance").values(name_en=None))
    db.session.flush()
    monitor = act_as(app, user_factory(["monitor"]))
    office = in_english(act_as(app, user_factory(["office_director", "office_staff"])))
    instance = start_incident(monitor)
    submit(monitor, instance, "ut_register")
    page = office.page(f"/incidents/{instance.business_key}")
    assert f"<dd>{UNIT[0]}</dd>" in page


def test_instance_and_admin_pages_name_processes_and_tasks_inin_english(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    admin = act_as(app, user_factory(["admin"]))
    assert MAIN[0] in admin.page("/instances")

    in_english(admin)
    listing = admin.page("/instances")
    assert f"<td>{MAIN[1]} v" in listing and f">{MAIN[1]}</option>" in listing and MAIN[0] not in listing
    detail = admin.page(f"/instances/{instance.public_id}")
    assert f"{MAIN[1]} v" in detail and f">{REGISTER[1]}</a>" in detail
    assert '<td>Monitor <small class="meta">' in detail and "<td>舆情监控员" not in detail  # the task's lane
    tabs = json.loads(detail.split('data-diagram="', 1)[1].split('"', 1)[0].replace("&#34;", '"')
                      .replace("&quot;", '"').replace("&amp;", "&"))
    assert MAIN[1] in [process["name"] for process in tabs["processes"]]
    with transaction():  # overdue: listed on the dashboard, which refreshes itself from its JSON
        open_task(instance, "ut_register").due_at = fake_clock.current - timedelta(hours=1)
    assert [row["name"] for row in admin.get("/admin/dashboard.json").get_json()["tasks"]["urgent"]] == [REGISTER[1]]
    assert f">{REGISTER[1]}</a>" in admin.page("/admin/dashboard")
    migrations = admin.page("/admin/migrations")
    assert f'<option value="yq_incident" >{MAIN[1]}</option>' in migrations and MAIN[0] not in migrations


def test_the_studio_names_processes_and_previews_forms_inin_english(app, db, user_factory):
    owner = act_as(app, user_factory(["process_owner"]))
    assert MAIN[0] in owner.page("/studio/")
    studio = in_english(owner).page("/studio/")
    assert f">{MAIN[1]}</a>" in studio

    text = (ROOT / "forms" / "ut_investigate.schema.json").read_text(encoding="utf-8")
    body = {"name": "ut_investigate.schema.json", "schema": text}
    html = owner.client.post("/studio/preview-form", json=body).get_json()["html"]
    assert "<h3>Investigation and verification</h3>" in html and "调查核实" not in html
    assert "核实情况" not in html  # field titles come from app/forms/i18n/en.json too
    with owner.client.session_transaction() as session:
        session["lang"] = "zh_CN"
    chinese = owner.client.post("/studio/preview-form", json=body).get_json()["html"]
    assert "<h3>调查核实</h3>" in chinese and "核实情况" in chinese


def test_the_bodies_of_the_profile_are_named_in_english_and_the_value_stays_chinese(app, db, user_factory,
                                                                                     fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director", "office_staff"]))
    instance = start_incident(monitor)
    submit(monitor, instance, "ut_register")
    assert submit(office, instance, "ut_confirm_level", confirmed_level="3",
                  level_change_reason="影响范围比初判更大").status_code == 302
    task = open_task(instance, "ut_file_record")
    assert "市委网信办" in office.page(f"/tasks/{task.public_id}")
    page = in_english(office).page(f"/tasks/{task.public_id}")
    form = page[page.index('class="taskform"'):page.index("</form>", page.index('class="taskform"'))]
    assert 'value="市委网信办"' in form and "Municipal cyberspace affairs office" in form
    assert ">市委网信办<" not in form and "> 市委网信办<" not in form


def test_levels_are_named_in_english_on_english_pages_and_in_chinese_otherwise(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director", "office_staff"]))
    instance = start_incident(monitor)
    submit(monitor, instance, "ut_register")  # the system proposes a level; the rows show it
    cells = re.findall(r'data-label="等级">([^<]*)<', office.page("/tasks"))
    assert cells and re.fullmatch(r"[ⅠⅡⅢⅣ]级 \S+", cells[0].strip()), cells
    numeral = cells[0][0]
    cells = re.findall(r'data-label="Level">([^<]*)<', in_english(office).page("/tasks"))
    assert cells and cells[0].startswith(f"Level {numeral} – ") and "级" not in cells[0], cells
