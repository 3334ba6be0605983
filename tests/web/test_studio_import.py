"""Files from other modellers, as a process owner brings them: the upload shows what was converted and
what was not, element by element, before anything is saved; saved and deployed, the processes run with
lanes, forms and conditions converted. `yuqing deploy` converts the same way. Unsafe expressions stay
unconverted and refused; hostile files are refused whole."""

from __future__ import annotations

import html
import io
import re
import shutil

import pytest
from sqlalchemy import select

from app.engine import decisions
from app.extensions import db
from app.models import ProcessDefinition, WorkspaceFile
from app.operations import studio
from tests.conftest import ROOT, login, make_user
from tests.operations.console import deploy_console

FIXTURES = ROOT / "tests" / "fixtures" / "modellers"
KEPT = "(如监听器、输入输出映射)未转换:保留在文件中但不起作用,请用本平台的任务实现。"


@pytest.fixture
def owners(db):
    deploy_console()
    return make_user(["process_owner"]), make_user(["process_owner", "process_publisher"])


def _upload(client, name: str, content: bytes | None = None):
    content = content if content is not None else (FIXTURES / name).read_bytes()
    return client.post("/studio/upload", data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def _section(page: str, testid: str) -> str:
    return page.split(f'data-testid="{testid}"', 1)[1].split("</section>", 1)[0]


def _rows(section: str) -> dict[str, list[str]]:
    """element id → messages of a report table."""
    found: dict[str, list[str]] = {}
    for element, message in re.findall(r'<tr data-element="([^"]*)" data-code="[^"]*"><td>.*?</td><td>(.*?)</td></tr>',
                                        section, re.S):
        found.setdefault(element, []).append(html.unescape(message))
    return found


def save_import(client, page: str):
    """Submit the import report's save form as the browser does (its hidden fields and CSRF token)."""
    form = page.split('data-testid="import-save"', 1)[1]
    fields = {name: html.unescape(value) for name, value in re.findall(
        r'<textarea name="(\w+)" hidden>(.*?)</textarea>', form, re.S)}
    fields["name"] = html.unescape(re.search(r'name="name" value="([^"]*)"', form).group(1))
    fields["csrf_token"] = re.search(r'name="csrf_token" value="([^"]*)"', form).group(1)
    return client.post("/studio/import", data=fields)


def _deploy(client, note: str):
    page = client.get("/studio/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]*)"', page).group(1)
    return client.post("/studio/deploy", data={"note": note, "csrf_token": csrf}, follow_redirects=True)


def _latest(key: str) -> ProcessDefinition:
    return db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_key == key,
                                                             ProcessDefinition.is_latest.is_(True)))


def test_a_camunda_7_file_is_reported_then_saved_and_deployed(client, owners):
    _editor, publisher = owners
    login(client, publisher)
    shown = _upload(client, "camunda7_report.bpmn")
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "Camunda 7" in page
    assert db.session.get(WorkspaceFile, "camunda7_report.bpmn") is None  # nothing stored before "save"
    done = _rows(_section(page, "import-converted"))
    assert done["Task_Register"] == [
        '到期时间 PT30M 已转换为办理期限 add_duration(now(), "PT30M")。',
        "表单 embedded:app:forms/register.html 已转换为表单草稿 ut_task_register.schema.json(4 个字段),"
        "请在表单编辑器中完善。"]
    assert done["Flow_Urgent"] == [
        "条件 ${urgent == true && heatScore > 5} 已转换为 urgent == True and heat_score > 5。"]
    assert done["Timer_Approve"] == ['定时器 PT2H 已转换为 "PT2H"。']
    assert done["Task_Approve"][0] == "办理人 ${director} 已转换为任务的“办理人”。"
    assert any("已按候选组建立泳道,角色为 office_director" in m for m in done["Lane_c7_report_1"])
    left = _rows(_section(page, "import-not-converted"))
    assert left["c7_report"] == [
        "设置 camunda:historyTimeToLive=180 未转换:本平台没有对应的功能,保留在文件中但不起作用。",
        f"扩展 camunda:executionListener{KEPT}"]
    assert "表单字段 截图 (file) 未转换:类型不受支持,请在表单编辑器中添加。" in left["Task_Register"]
    assert "转换后的文件通过了发布前的校验。" in _section(page, "import-problems")
    saved = save_import(client, page)
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/studio/files/camunda7_report.bpmn")
    assert studio.get_file("ut_task_register.schema.json").draft is not None
    assert "已部署" in _deploy(client, "导入 Camunda 7 流程").get_data(as_text=True)
    definition = _latest("c7_report")
    assert definition.tasks["c7_report:Task_Register"]["roles"] == ["office_staff"]
    assert definition.tasks["c7_report:Task_Register"]["lane"] == "办公室工作人员"
    assert definition.tasks["c7_report:Task_Approve"]["form"] == "yq_confirm.schema.json"
    assert set(definition.forms["ut_task_register.schema.json"]["properties"]) == {
        "title", "heat_score", "urgent", "platform"}
    # the condition reads the field by the name the converted form gives it
    assert "urgent == True and heat_score &gt; 5" in definition.sources["camunda7_report.bpmn"]


def test_a_camunda_8_file_converts_forms_assignment_decision_and_feel(client, owners):
    _editor, publisher = owners
    login(client, publisher)
    page = _upload(client, "camunda8_release.bpmn").get_data(as_text=True)
    assert "Camunda 8" in page
    done = _rows(_section(page, "import-converted"))
    assert done["Flow_yes"] == ["条件 =approved = true 已转换为 approved == True。"]
    assert done["Flow_no"] == ["条件 =not(approved) 已转换为 not (approved)。"]
    assert done["Task_Grade"] == ["调用的决策 yq_grade 已转换。"]
    left = _rows(_section(page, "import-not-converted"))
    assert left["Task_Grade"] == ["结果变量 gradeResult 未转换:决策结果按决策表的输出列名写入流程数据。"]
    assert f"扩展 zeebe:ioMapping{KEPT}" in left["Task_Review"]
    save_import(client, page)
    assert "已部署" in _deploy(client, "导入 Camunda 8 流程").get_data(as_text=True)
    review = _latest("c8_release").tasks["c8_release:Task_Review"]
    assert review["roles"] == ["team_publicity"] and review["form"] == "ut_task_review.schema.json"
    assert _latest("c8_release").forms["ut_task_review.schema.json"]["properties"]["channel"]["oneOf"][1] == {
        "const": "weibo", "title": "官方微博"}


def test_a_flowable_file_is_converted_and_what_is_not_is_listed(client, owners):
    _editor, publisher = owners
    login(client, publisher)
    page = _upload(client, "flowable_verify.bpmn").get_data(as_text=True)
    assert "Flowable" in page
    done = _rows(_section(page, "import-converted"))
    assert done["flowNo"] == ["条件 ${!verified} 已转换为 not verified。"]
    left = _rows(_section(page, "import-not-converted"))
    assert left["handleLead"] == ["办理人 $INITIATOR 未转换:请填写用户名或一个变量名。",
                                  "设置 flowable:async=true 未转换:本平台没有对应的功能,保留在文件中但不起作用。",
                                  f"扩展 flowable:taskListener{KEPT}"]
    save_import(client, page)
    assert "已部署" in _deploy(client, "导入 Flowable 流程").get_data(as_text=True)
    assert _latest("fl_verify").tasks["fl_verify:verifyLead"]["roles"] == ["office_staff"]


def test_a_bpmn_io_file_is_made_executable_and_deploys_once_its_lane_has_roles(client, owners):
    _editor, publisher = owners
    login(client, publisher)
    page = _upload(client, "bpmnio_notice.bpmn").get_data(as_text=True)
    done = _rows(_section(page, "import-converted"))
    assert done["io_notice"] == ["流程原标记为不可执行,已设为可执行。"]
    assert done["Wait_io"] == ['定时器 P1D 已转换为 "P1D"。']
    problems = html.unescape(_section(page, "import-problems"))
    assert "泳道“办公室”没有设置角色。" in problems
    assert "选中该泳道,在属性面板的“角色”中选择办理其任务的角色。" in problems
    save_import(client, page)
    text = studio.get_file("bpmnio_notice.bpmn").draft
    fixed = text.replace('<bpmn:lane id="Lane_office" name="办公室">',
                         '<bpmn:lane id="Lane_office" name="办公室"><bpmn:extensionElements><spiffworkflow:properties>'
                         '<spiffworkflow:property name="roles" value="office_staff"/></spiffworkflow:properties>'
                         "</bpmn:extensionElements>")
    studio.save_draft("bpmnio_notice.bpmn", fixed, publisher)
    assert "已部署" in _deploy(client, "导入 bpmn.io 流程").get_data(as_text=True)
    tasks = _latest("io_notice").tasks
    assert {key: task["form"] for key, task in tasks.items()} == {
        "io_notice:Task_Read": "yq_confirm.schema.json", "io_notice:Task_Report": "yq_confirm.schema.json"}


def test_an_unsafe_expression_is_never_converted_into_an_accepted_one(client, owners):
    _editor, publisher = owners
    login(client, publisher)
    evil = (FIXTURES / "camunda7_report.bpmn").read_bytes().replace(
        b"${urgent == true &amp;&amp; heatScore &gt; 5}", b"${urgent.getClass().forName('java.lang.Runtime') != null}")
    page = _upload(client, "camunda7_report.bpmn", evil).get_data(as_text=True)
    left = _rows(_section(page, "import-not-converted"))
    assert left["Flow_Urgent"][0].startswith("条件 ${urgent.getClass()")
    assert "未转换" in left["Flow_Urgent"][0]
    problems = html.unescape(_section(page, "import-problems"))
    assert "Flow_Urgent" in problems or "Gateway_Urgent" in problems
    assert "不允许访问属性(点号 .)" in problems or "语法错误" in problems
    save_import(client, page)
    refused = _deploy(client, "不应发布")
    assert "部署被拒绝" in refused.get_data(as_text=True) and _latest("c7_report") is None


def test_hostile_files_are_refused_whole_by_upload_and_by_save(client, owners):
    editor, _publisher = owners
    login(client, editor)
    hostile = (FIXTURES / "camunda7_report.bpmn").read_bytes().replace(
        b'<?xml version="1.0" encoding="UTF-8"?>',
        b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>')
    refused = client.post("/studio/upload", data={"file": (io.BytesIO(hostile), "evil.bpmn")},
                          content_type="multipart/form-data", follow_redirects=True)
    assert "上传被拒绝" in refused.get_data(as_text=True) and "root:" not in refused.get_data(as_text=True)
    page = client.get("/studio/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]*)"', page).group(1)
    saved = client.post("/studio/import", data={"csrf_token": csrf, "name": "evil.bpmn", "content": hostile.decode(),
                                                "forms": "{}"}, follow_redirects=True)
    assert "保存被拒绝" in saved.get_data(as_text=True)
    bad_forms = client.post("/studio/import", data={"csrf_token": csrf, "name": "x.bpmn", "content": "<x/>",
                                                    "forms": "[1"}, follow_redirects=True)
    assert "保存被拒绝" in bad_forms.get_data(as_text=True)
    assert db.session.get(WorkspaceFile, "evil.bpmn") is None and db.session.get(WorkspaceFile, "x.bpmn") is None


def test_yuqing_deploy_converts_and_prints_the_report(app, db, tmp_path):
    processes = tmp_path / "processes"
    shutil.copytree(ROOT / "processes", processes)
    shutil.copy(FIXTURES / "flowable_verify.bpmn", processes / "flowable_verify.bpmn")
    result = app.test_cli_runner().invoke(args=["deploy", str(processes), "--forms", str(ROOT / "forms")])
    assert result.exit_code == 0, result.output
    assert "flowable_verify.bpmn: Flowable / Activiti" in result.output
    assert "! handleLead 办理人 $INITIATOR 未转换:请填写用户名或一个变量名。" in result.output
    assert "+ flowYes 条件 ${verified} 已转换为 verified。" in result.output
    assert "deployed fl_verify v1" in result.output
    assert _latest("fl_verify").forms["ut_verifylead.schema.json"]["properties"]["verified"]["type"] == "boolean"


def test_a_camunda_decision_table_gets_its_feel_cells_converted(client, owners):
    editor, _publisher = owners
    login(client, editor)
    page = _upload(client, "camunda_heat.dmn").get_data(as_text=True)
    assert "Camunda 7" in page
    done = _rows(_section(page, "import-converted"))
    assert done["Rule_high_score"] == ["条件 [80..100] 已转换为 ? >= 80 and ? <= 100。"]
    assert done["Rule_high_platform"] == ['条件 "weibo","douyin" 已转换为 ? in ("weibo", "douyin",)。']
    assert done["Rule_mid_platform"] == ['条件 not("wechat") 已转换为 ? not in ("wechat",)。']
    left = _rows(_section(page, "import-not-converted"))
    assert left["Input_score"] == [
        "设置 camunda:inputVariable=score 未转换:本平台没有对应的功能,保留在文件中但不起作用。"]
    assert left["Rule_date_score"][0].startswith('条件 date and time("2026-01-01T00:00:00") 未转换')
    problems = html.unescape(_section(page, "import-problems"))
    assert "Rule_date_score" in problems and "第 3 条规则“热度”列的条件不被接受" in problems
    save_import(client, page)
    fixed = studio.get_file("camunda_heat.dmn").draft.replace('date and time("2026-01-01T00:00:00")', "&lt; 0")
    studio.save_draft("camunda_heat.dmn", fixed, editor)
    assert studio.validate(editor).ok
    content = studio.get_file("camunda_heat.dmn").draft.encode()
    for score, platform, band in ((90, "weibo", "高"), (90, "wechat", None), (60, "weibo", "中"),
                                  (60, "wechat", None), (10, "wechat", "低")):
        result = decisions.evaluate_decision(content, "camunda_heat.dmn", "heat_band",
                                             {"heat_score": score, "platform": platform})
        assert result.get("band") == band, (score, platform, result)
