"""The admin console's pages over HTTP: list filters, CSV, saved filters, interventions with reason and
optimistic lock, the on-behalf form, batches and the migration preview; read-only for the director."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs import registry
from app.models import BatchOperation, HumanTask, InstanceStatus, ProcessInstance, TaskStatus
from app.operations import instances, interventions, migrations, timer_firing
from tests.conftest import login, make_user
from tests.operations.console import console_v2, deploy_console, open_task


@pytest.fixture
def setup(db):
    deploy_console()
    admin = make_user(["admin"])
    staff = make_user(["office_staff"])
    rows = [instances.start_instance("t_console", staff, {"divisor": 5, "title": f"网页实例{n}"}) for n in range(3)]
    return admin, staff, rows


def _fresh(instance):
    db.session.expire_all()
    return db.session.get(ProcessInstance, instance.id)


def test_list_filters_and_pages(client, setup):
    admin, _staff, _rows = setup
    login(client, admin)
    page = client.get("/instances?text=网页实例1").get_data(as_text=True)
    assert "网页实例1" in page and "网页实例2" not in page
    assert 'name="selected"' in page  # admins can select rows for a batch
    bad = client.get("/instances?level=7").get_data(as_text=True)
    assert "field__error" in bad
    csv_body = client.get("/instances.csv?process=t_console", buffered=True).get_data(as_text=True)
    assert csv_body.count("网页实例") == 3


def test_saved_filter_round_trip(client, setup):
    admin, _staff, _rows = setup
    login(client, admin)
    response = client.post("/instances/filters", data={"name": "出错的", "query": '{"status": ["error"]}'})
    assert response.status_code == 302
    page = client.get("/instances").get_data(as_text=True)
    assert "出错的" in page and "status=error" in page


def test_interventions_need_a_reason_and_the_current_version(client, setup):
    admin, _staff, rows = setup
    login(client, admin)
    instance = rows[0]
    url = f"/instances/{instance.public_id}/act"
    missing = client.post(url, data={"action": "suspend", "version": instance.version, "reason": "", "_form": "act"})
    assert missing.status_code == 422 and "请填写操作理由" in missing.get_data(as_text=True)
    stale = client.post(url, data={"action": "suspend", "version": instance.version - 1, "reason": "旧页面"})
    assert stale.status_code == 409 and "已有变化" in stale.get_data(as_text=True)
    assert _fresh(instance).status == InstanceStatus.WAITING
    done = client.post(url, data={"action": "suspend", "version": _fresh(instance).version, "reason": "核实中"})
    assert done.status_code == 302 and _fresh(instance).status == InstanceStatus.SUSPENDED
    page = client.get(f"/instances/{instance.public_id}").get_data(as_text=True)
    assert "核实中" in page and 'data-testid="admin-panel"' in page


def test_the_director_sees_the_panel_but_no_interventions(client, setup):
    _admin, _staff, rows = setup
    login(client, make_user(["office_director"]))
    page = client.get(f"/instances/{rows[0].public_id}").get_data(as_text=True)
    assert 'data-testid="admin-panel"' in page and 'data-testid="timers"' in page
    assert 'data-testid="instance-actions"' not in page and "/act" not in page
    assert client.post(f"/instances/{rows[0].public_id}/act", data={"action": "terminate", "reason": "x"}).status_code \
        == 404
    assert client.get("/admin/batches").status_code == 404
    assert client.get("/admin/migrations").status_code == 404
    staff_client_page = client.get("/instances").get_data(as_text=True)
    assert 'name="selected"' not in staff_client_page


def test_reassign_and_data_edit_from_the_instance_page(client, setup):
    admin, _staff, rows = setup
    login(client, admin)
    instance = rows[1]
    task = open_task(instance, "ut_a")
    other = make_user(["office_staff"], username="deputy_wang")
    response = client.post(f"/instances/{instance.public_id}/tasks/{task.public_id}",
                           data={"action": "reassign", "assignee": other.username, "reason": "出差",
                                 "version": instance.version})
    assert response.status_code == 302
    assert db.session.get(HumanTask, task.id).assignee_id == other.id
    bad_key = client.post(f"/instances/{instance.public_id}/data",
                          data={"key": "1bad", "value": "2", "reason": "x", "_form": "data",
                                "version": _fresh(instance).version})
    assert bad_key.status_code == 422 and 'value="1bad"' in bad_key.get_data(as_text=True)
    client.post(f"/instances/{instance.public_id}/data",
                data={"key": "divisor", "value": "7", "reason": "更正", "version": _fresh(instance).version})
    page = client.get(f"/instances/{instance.public_id}").get_data(as_text=True)
    assert "&#34;divisor&#34;: 7" in page  # the data panel, as escaped text


def test_on_behalf_form_keeps_what_was_typed_on_error(client, setup):
    admin, _staff, rows = setup
    login(client, admin)
    task = open_task(rows[2], "ut_a")
    page = client.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert 'data-testid="on-behalf"' in page
    version = _fresh(rows[2]).version
    response = client.post(f"/tasks/{task.public_id}/on-behalf",
                           data={"findings": "已电话核实", "facts_confirmed": "true", "reason": "", "version": version})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "请填写操作理由" in body and "已电话核实" in body
    assert db.session.get(HumanTask, task.id).status == TaskStatus.OPEN
    done = client.post(f"/tasks/{task.public_id}/on-behalf",
                       data={"findings": "已电话核实", "facts_confirmed": "true", "reason": "办理人休假",
                             "version": version})
    assert done.status_code == 302
    assert db.session.get(HumanTask, task.id).completed_by_id == admin.id


def test_batch_page_and_migration_preview(client, setup):
    admin, _staff, rows = setup
    login(client, admin)
    response = client.post("/instances/batch", data={"kind": "suspend", "reason": "统一暂停", "scope": "selected",
                                                     "selected": [rows[0].public_id, rows[1].public_id],
                                                     "query": "{}"})
    assert response.status_code == 302
    batch_url = response.headers["Location"]
    registry.run_due("test")
    progress = client.get(batch_url + ".json").get_json()
    assert progress["status"] == "done" and progress["succeeded"] == 2
    assert "统一暂停" in client.get(batch_url).get_data(as_text=True)
    deploy_console({"t_console.bpmn": console_v2()})
    preview = client.get("/admin/migrations?process=t_console&from=1&to=2").get_data(as_text=True)
    assert "可迁移 3 个" in preview
    assert re.search(r'data-element="ut_a">[^<]*→ ut_a', preview)
    v2 = migrations.definition("t_console", 2)
    response = client.post("/admin/migrations?process=t_console&from=1&to=2",
                           data={"selected": [rows[2].public_id], "reason": "预案修订"})
    assert response.status_code == 302
    registry.run_due("test")
    assert _fresh(rows[2]).definition_id == v2.id
    assert db.session.scalar(select(BatchOperation.kind).order_by(BatchOperation.id.desc()).limit(1)) == "migrate"


def test_failures_page_lists_instances_in_error_with_a_retry(client, db, fake_clock):
    deploy_console()
    admin = make_user(["admin"])
    instance = instances.start_instance("t_console", make_user(["office_staff"]), {"divisor": 0})
    fake_clock.advance(hours=3)
    timer_firing.fire_due_timers()
    login(client, admin)
    page = client.get("/admin/failures").get_data(as_text=True)
    assert f'data-instance="{instance.public_id}"' in page and "sc_divide" in page and "division by zero" in page
    version = _fresh(instance).version
    client.post(f"/instances/{instance.public_id}/data",
                data={"key": "divisor", "value": "2", "reason": "更正", "version": version})
    client.post(f"/instances/{instance.public_id}/act",
                data={"action": "retry", "reason": "已更正", "version": _fresh(instance).version})
    assert _fresh(instance).status == InstanceStatus.WAITING
    assert f'data-instance="{instance.public_id}"' not in client.get("/admin/failures").get_data(as_text=True)


def test_a_suspended_instance_s_task_says_so_at_once_and_offers_no_submit(client, setup):
    admin, staff, rows = setup
    task = open_task(rows[0], "ut_a")
    interventions.act(rows[0].public_id, "suspend", None, admin, "等待上级意见")
    login(client, staff)
    worklist = client.get("/tasks?view=group").get_data(as_text=True)
    row = re.search(rf'<tr[^>]*data-task="{task.public_id}">.*?</tr>', worklist, re.DOTALL).group(0)
    assert "已挂起" in row and 'name="claim"' not in row and 'name="task"' not in row
    others = re.search(rf'<tr[^>]*data-task="{open_task(rows[1], "ut_a").public_id}">.*?</tr>',
                       worklist, re.DOTALL).group(0)
    assert "已挂起" not in others and 'name="claim"' in others

    page = client.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert "该流程已被管理员挂起,暂不能办理;恢复后可继续。" in page
    buttons = re.findall(r"<button[^>]*>", page.split('data-testid="suspended-banner"', 1)[1])
    assert buttons and all("disabled" in button for button in buttons)

    interventions.act(rows[0].public_id, "resume", None, admin, "上级已答复")
    page = client.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert "暂不能办理" not in page and "disabled" not in page and 'value="complete"' in page


def _flashes(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<p class="flash flash--(\w+)"[^>]*>([^<]*)</p>', page)


def test_retry_says_whether_the_instance_went_on_or_is_still_in_error(client, db, fake_clock):
    deploy_console()
    admin = make_user(["admin"])
    instance = instances.start_instance("t_console", make_user(["office_staff"]), {"divisor": 0})
    fake_clock.advance(hours=3)
    timer_firing.fire_due_timers()
    login(client, admin)
    again = client.post(f"/instances/{instance.public_id}/act", follow_redirects=True,
                        data={"action": "retry", "reason": "再试一次", "version": _fresh(instance).version})
    assert _flashes(again.get_data(as_text=True)) == [
        ("error", "已重试,但流程仍然出错(环节 sc_divide):EvaluationError:division by zero.")]
    assert _fresh(instance).status == InstanceStatus.ERROR

    client.post(f"/instances/{instance.public_id}/data",
                data={"key": "divisor", "value": "2", "reason": "更正", "version": _fresh(instance).version})
    fixed = client.post(f"/instances/{instance.public_id}/act", follow_redirects=True,
                        data={"action": "retry", "reason": "已更正", "version": _fresh(instance).version})
    assert ("success", "已重试,流程已恢复运行,等待下一步办理。") in _flashes(fixed.get_data(as_text=True))
    assert _fresh(instance).status == InstanceStatus.WAITING


def test_reassigning_to_someone_outside_the_lane_is_refused_on_the_page_until_confirmed(client, setup):
    admin, _staff, rows = setup
    instance = rows[1]
    task = open_task(instance, "ut_a")
    make_user(["office_director"], username="director_wu", display_name="吴主任")
    login(client, admin)
    url = f"/instances/{instance.public_id}/tasks/{task.public_id}"
    form = {"action": "reassign", "_form": "task", "task": task.public_id, "assignee": "director_wu",
            "reason": "原办理人出差", "version": instance.version}
    refused = client.post(url, data=form)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    message = re.search(r'data-testid="reassign-error">([^<]*)<', page).group(1)
    assert message == "吴主任不在“核查情况”的办理角色(办公室工作人员)中。确需转办,请勾选“仍然转办”后再提交。"
    assert 'name="confirm_outside"' in page and '<option value="director_wu" selected>' in page
    assert db.session.get(HumanTask, task.id).assignee_id is None

    assert client.post(url, data={**form, "confirm_outside": "on"}).status_code == 302
    assert db.session.get(HumanTask, task.id).assignee.username == "director_wu"

    batch = client.post("/instances/batch", follow_redirects=True, data={
        "kind": "reassign", "reason": "集中转办", "scope": "selected", "selected": [rows[2].public_id],
        "assignee": "director_wu", "query": "{}"})
    assert "吴主任不在“核查情况”的办理角色(办公室工作人员)中。" in batch.get_data(as_text=True)
    confirmed = client.post("/instances/batch", data={
        "kind": "reassign", "reason": "集中转办", "scope": "selected", "selected": [rows[2].public_id],
        "assignee": "director_wu", "query": "{}", "confirm_outside": "on"})
    assert "/admin/batches/" in confirmed.headers["Location"]
