"""The render model and the Jinja macros that show it."""

import re
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

from app.forms import FormSchemaError, add_row, build_fields, context_items, form_errors, parse_submission
from app.forms.files import ATTACHMENT_ITEMS
from tests.forms.conftest import SCHEMA, _make_form

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"


def by_name(fields):
    return {field.name: field for field in fields}


@pytest.fixture
def macros():
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True)
    return env.get_template("forms/_fields.html").module


def test_fields_follow_ui_order_then_schema_order(form, options):
    names = [field.name for field in build_fields(form, options=options)]
    assert names[:3] == ["title", "discovered_at", "summary"]
    assert len(names) == len(form.schema["properties"])


def test_widgets_per_kind(form, options):
    widgets = {field.name: field.widget for field in build_fields(form, options=options)}
    assert widgets == {
        "title": "text", "discovered_at": "datetime", "summary": "textarea", "views": "integer",
        "is_false_info": "radio", "start_plan": "checkbox", "source_type": "radio",
        "proposed_level": "readonly", "confirmed_level": "select", "level_change_reason": "text",
        "platforms": "checkboxes", "lead_unit": "select", "assist_units": "checkboxes",
        "filed_on": "date", "url": "url", "links": "rows", "members": "rows",
    }


def test_select_marks_the_stored_value_selected(form, options):
    field = by_name(build_fields(form, values={"confirmed_level": 3}, options=options))["confirmed_level"]
    assert field.choices[0] == ("", "请选择", False)
    assert [choice for choice in field.choices if choice[2]] == [("3", "Ⅲ级 较大", True)]


def test_x_source_options_become_choices(form, options):
    field = by_name(build_fields(form, values={"lead_unit": "u2"}, options=options))["lead_unit"]
    assert field.choices == [("", "请选择", False), ("u1", "宣传科", False), ("u2", "办公室", True)]


def test_same_name_in_context_is_not_prefilled(form, options):
    # In loops the context holds the previous round's answer, which must not be pre-chosen.
    fields = by_name(build_fields(form, context={"title": "网传某地事件", "views": 1200}, options=options))
    assert fields["title"].value == ""
    assert fields["views"].value == ""


def test_ui_prefill_takes_another_context_key(form, options):
    field = by_name(build_fields(form, context={"proposed_level": 2}, options=options))["confirmed_level"]
    assert [value for value, _label, selected in field.choices if selected] == ["2"]


def test_ui_prefill_wins_over_own_name_in_context(form, options):
    context = {"proposed_level": 2, "confirmed_level": 1}
    field = by_name(build_fields(form, context=context, options=options))["confirmed_level"]
    assert [value for value, _label, selected in field.choices if selected] == ["2"]


def test_read_only_field_shows_the_context_value_with_its_label(form, options):
    field = by_name(build_fields(form, values={"proposed_level": 4}, context={"proposed_level": 1},
                                 options=options))["proposed_level"]
    assert (field.widget, field.value) == ("readonly", "Ⅰ级 特别重大")


def test_datetime_is_shown_in_shanghai_for_datetime_local(form, options):
    values = {"discovered_at": "2026-11-25T01:30:00+00:00"}
    field = by_name(build_fields(form, values=values))["discovered_at"]
    assert (field.value, field.input_type) == ("2026-11-25T09:30", "datetime-local")


def test_bool_radio_and_checkbox_choices(form, options):
    fields = by_name(build_fields(form, values={"is_false_info": False, "start_plan": True}))
    assert fields["is_false_info"].choices == [("true", "是", False), ("false", "否", True)]
    assert fields["start_plan"].choices == [("true", "启动应急预案", True)]


def test_checkboxes_select_every_stored_value(form, options):
    field = by_name(build_fields(form, values={"platforms": ["weibo", "douyin"]}))["platforms"]
    assert [value for value, _label, selected in field.choices if selected] == ["weibo", "douyin"]


def test_table_shows_stored_rows_plus_blank_rows(form, options):
    values = {"members": [{"person": "张三", "team": "publicity"}]}
    field = by_name(build_fields(form, values=values, options=options))["members"]
    assert len(field.rows) == 2  # one stored row, blankRows 1
    assert [cell.name for cell in field.rows[0]] == ["members.0.team", "members.0.person", "members.0.phone"]
    assert field.rows[0][1].value == "张三"
    assert field.rows[1][1].value == ""
    assert field.rows[0][1].placeholder == "姓名"
    assert field.columns == [("工作组", False), ("姓名", True), ("电话", False)]


def test_list_of_scalars_uses_default_two_blank_rows(form, options):
    field = by_name(build_fields(form, values={"links": ["https://a.example"]}))["links"]
    assert [[cell.name for cell in row] for row in field.rows] == [["links.0"], ["links.1"], ["links.2"]]
    assert field.rows[0][0].value == "https://a.example"


def test_redisplay_uses_raw_text_and_errors(form, options):
    submission = parse_submission(form, {"views": ["十二"], "members.4.person": ["李四"],
                                         "members.4.phone": ["x"]}, options)
    errors = {**submission.errors, "members.0.phone": ["格式不正确"], "": ["表单错误"]}
    fields = by_name(build_fields(form, values={"views": 5}, raw=submission.raw, errors=errors,
                                  context={"title": "不应回填"}, options=options))
    assert (fields["views"].value, fields["views"].errors) == ("十二", ["请输入整数"])
    assert fields["title"].value == ""
    cell = fields["members"].rows[0][2]
    assert (cell.name, cell.value, cell.errors) == ("members.0.phone", "x", ["格式不正确"])
    assert fields["members"].rows[0][1].value == "李四"


def test_row_level_errors_go_to_the_table(form, options):
    errors = {"members": ["最多 50 项"], "members.7.person": ["此项为必填项"]}
    fields = by_name(build_fields(form, errors=errors))
    assert fields["members"].errors == ["最多 50 项", "此项为必填项"]


def test_context_items_show_labels_and_join_lists(form, options):
    items = context_items(form, {"proposed_level": 3, "platforms": ["weibo", "wechat"]})
    assert items == [("系统建议等级", "Ⅲ级 较大"), ("发布平台", "微博、微信")]


def test_context_items_read_inside_dicts_and_show_lists_as_lines():
    ui = {"ui:context": [{"key": "monthly_stats.total", "label": "事件数"},
                         {"key": "record.timeline", "label": "处置时间线", "lines": True},
                         {"key": "record.missing.deeper", "label": "缺"}]}
    form = _make_form(SCHEMA, ui)
    items = context_items(form, {"monthly_stats": {"total": 7}, "record": {"timeline": ["09:30 登记", "10:00 定级"]}})
    assert items == [("事件数", "7"), ("处置时间线", "09:30 登记\n10:00 定级"), ("缺", "—")]


def test_context_key_paths_are_checked_at_deploy():
    with pytest.raises(FormSchemaError, match=r"ui:context\[0\].key"):
        _make_form(SCHEMA, {"ui:context": [{"key": "stats.__class__", "label": "x"}]})
    with pytest.raises(FormSchemaError, match="lines: must be true or false"):
        _make_form(SCHEMA, {"ui:context": [{"key": "stats", "label": "x", "lines": "yes"}]})


def test_context_items_for_missing_values(form):
    assert context_items(form, {}) == [("系统建议等级", "—"), ("发布平台", "—")]


def test_english_render_words(form):
    field = by_name(build_fields(form, locale="en"))["is_false_info"]
    assert [label for _value, label, _selected in field.choices] == ["Yes", "No"]


def test_macro_puts_the_error_next_to_its_field(form, options, macros):
    fields = build_fields(form, raw={"title": ""}, errors={"title": ["此项为必填项"]}, options=options)
    html = str(macros.render_fields(fields))
    match = re.search(r'<input type="text" id="field-title"[^>]*>\s*<p class="field__error field-error" '
                      r'id="field-title-error">此项为必填项</p>', html)
    assert match, html[:2000]
    assert 'aria-describedby="field-title-help field-title-error"' in match.group(0)
    marker = '<span class="field__required" aria-hidden="true">*</span>'
    assert f'<label for="field-title">舆情标题{marker}</label>' in html
    assert 'class="field field--text field--error"' in html


def test_macro_escapes_values(form, options, macros):
    evil = '"><script>alert(1)</script>'
    fields = build_fields(form, raw={"title": evil, "summary": "</textarea><script>x</script>",
                                     "members.0.person": evil},
                          context={"proposed_level": 1}, options=options)
    items = context_items(form, {"platforms": ["<script>y</script>"]})
    html = str(macros.render_fields(fields)) + str(macros.render_context(items))
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'value="&#34;&gt;&lt;script&gt;' in html


def test_macro_renders_rows_as_a_table_with_labelled_cells(form, options, macros):
    html = str(macros.render_fields(build_fields(form, options=options)))
    assert '<table class="rows" id="field-members"' in html
    assert '<th scope="col">姓名<span class="field__required" aria-hidden="true">*</span></th>' in html
    cell = ('name="members.0.person" value="" maxlength="50" placeholder="姓名" '
            'aria-label="专班成员 第 1 行 姓名">')
    assert cell in html
    assert "<th scope=\"col\">相关链接</th>" in html


def test_macro_renders_context_items(macros):
    html = str(macros.render_context([("舆情标题", "某事件")]))
    assert "<dt>舆情标题</dt>" in html and "<dd>某事件</dd>" in html


def test_template_has_no_inline_script_styles_or_safe():
    text = (TEMPLATES / "forms" / "_fields.html").read_text()
    assert "|safe" not in text.replace(" ", "")
    assert "<script" not in text and "style=" not in text
    assert not re.search(r"\son[a-z]+=", text)


def test_form_errors_collects_what_no_field_shows(form):
    errors = {"": ["提交的内容过多"], "evil": ["不允许的字段"], "title": ["此项为必填项"],
              "members.0.person": ["x"]}
    assert form_errors(form, errors) == ["提交的内容过多", "不允许的字段"]


def test_options_whose_condition_fails_for_the_task_are_not_offered(make_schema, options):
    schema = make_schema()
    schema["properties"]["platforms"]["items"]["oneOf"][2]["x-when"] = "'douyin' in allowed"
    form = _make_form(schema)
    offered = by_name(build_fields(form, context={"allowed": ["weibo"]}, options=options))["platforms"]
    assert [value for value, _label, _selected in offered.choices] == ["weibo", "wechat"]
    allowed = by_name(build_fields(form, context={"allowed": ["douyin"]}, options=options))["platforms"]
    assert [value for value, _label, _selected in allowed.choices] == ["weibo", "wechat", "douyin"]


def test_errors_of_a_multi_selects_items_and_of_read_only_fields_show_at_the_field(form, options):
    errors = {"assist_units.1": ["请选择有效的选项"], "assist_units.3": ["请选择有效的选项"],
              "proposed_level": ["系统建议等级有误"]}
    fields = by_name(build_fields(form, errors=errors, context={"proposed_level": 2}, options=options))
    assert fields["assist_units"].errors == ["请选择有效的选项"]
    assert fields["proposed_level"].errors == ["系统建议等级有误"]
    assert form_errors(form, errors) == []


def test_context_items_leave_out_blank_optional_entries_and_render_links_and_files(make_schema):
    schema = make_schema(shots={"type": "array", "title": "截图", "maxItems": 5,
                                "x-attachments": {"accept": ["image"]}, "items": ATTACHMENT_ITEMS})
    ui = {"ui:context": [{"key": "url", "label": "原文链接"}, {"key": "shots", "label": "截图"},
                         {"key": "summary", "label": "内容摘要", "optional": True},
                         {"key": "views", "label": "阅读量", "optional": True}]}
    form = _make_form(schema, ui)
    context = {"url": "https://weibo.com/1", "shots": [{"id": "a1", "name": "帖子.png", "size": 2048}], "views": 0}
    items = context_items(form, context, files=lambda items: f"files:{[item.name for item in items]}",
                          link=lambda url: f"link:{url}")
    assert items == [("原文链接", "link:https://weibo.com/1"), ("截图", "files:['帖子.png']"), ("阅读量", "0")]
    hostile = context_items(form, {"url": "javascript:alert(1)"}, link=lambda url: f"link:{url}")
    assert hostile[0] == ("原文链接", "javascript:alert(1)")  # only http(s) addresses become links
    with pytest.raises(FormSchemaError, match="optional: must be true or false"):
        _make_form(SCHEMA, {"ui:context": [{"key": "url", "label": "x", "optional": "yes"}]})


def test_a_table_carries_a_blank_row_to_copy_and_its_add_and_remove_buttons(form, options, macros):
    field = by_name(build_fields(form, options=options))["members"]
    template = field.row_tools.template
    assert [cell.name for cell in template] == ["members.__i__.team", "members.__i__.person", "members.__i__.phone"]
    assert template[1].label == "专班成员 第 __n__ 行 姓名" and field.row_tools.max_rows == 50
    html = str(macros.render_fields([field], add_rows=True))
    assert '<template id="field-members-template"><tr>' in html and 'name="members.__i__.person"' in html
    assert ('<button type="submit" name="_action" value="add_row:members" formnovalidate '
            'data-rows-add="field-members">添加一行</button>') in html
    assert '<button type="button" class="rows__remove" data-rows-remove hidden>删除本行</button>' in html
    elsewhere = str(macros.render_fields([field]))  # pages that do not handle add_row: the script's button only
    assert '<button type="button" data-rows-add="field-members" hidden>添加一行</button>' in elsewhere


def test_adding_a_row_without_javascript_shows_one_row_more_than_was_posted(form, options):
    posted = {"members.0.person": ["张三"], "members.1.person": [""], "members.2.person": ["李四"],
              "members.3.person": [""], "title": ["标题"]}
    submission = parse_submission(form, posted, options)
    raw = add_row(form, posted, submission.raw, "members")
    rows = by_name(build_fields(form, raw=raw, options=options))["members"].rows
    assert [row[1].value for row in rows] == ["张三", "李四", "", "", ""]  # typed rows first, 4 posted + 1
    assert add_row(form, posted, submission.raw, "title") == submission.raw  # not a table: nothing changes
    english = by_name(build_fields(form, options=options, locale="en"))["members"].row_tools
    assert (english.add, english.remove) == ("Add a row", "Remove this row")
