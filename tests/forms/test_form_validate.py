"""Validation of typed data: per-field messages, rules, dynamic options, no remote fetching."""

import urllib.request

import pytest

from app.forms import FormSpec, validate
from app.forms.validate import FORMAT_CHECKER

CONTEXT = {"proposed_level": 2}


def errors_for(form, data, options, context=CONTEXT, locale="zh_CN"):
    return validate(form, data, context, options, locale=locale)


def test_valid_data_has_no_errors(form, options, valid_data):
    assert errors_for(form, valid_data(), options) == {}


def test_required_fields_are_reported_per_field(form, options, valid_data):
    errors = errors_for(form, valid_data(title=None, source_type=None), options)
    assert errors == {"title": ["此项为必填项"], "source_type": ["此项为必填项"]}


def test_blank_string_counts_as_missing(form, options, valid_data):
    assert errors_for(form, valid_data(title="  "), options) == {"title": ["此项为必填项"]}


def test_max_length(form, options, valid_data):
    assert errors_for(form, valid_data(title="字" * 201), options) == {"title": ["最多 200 个字符"]}


def test_minimum(form, options, valid_data):
    assert errors_for(form, valid_data(views=-1), options) == {"views": ["不能小于 0"]}


def test_bad_enum_value(form, options, valid_data):
    data = valid_data(source_type="rumour", confirmed_level=7)
    errors = errors_for(form, data, options, {"proposed_level": 7})
    assert errors == {"source_type": ["请选择有效的选项"], "confirmed_level": ["请选择有效的选项"]}


@pytest.mark.parametrize("url", ["ftp://example.org/x", "javascript:alert(1)", "https://", "example.org"])
def test_bad_url(form, options, valid_data, url):
    expected = {"url": ["请输入以 http:// 或 https:// 开头的链接"]}
    assert errors_for(form, valid_data(url=url), options) == expected


def test_good_url(form, options, valid_data):
    assert errors_for(form, valid_data(url="https://weibo.com/1/AbC?x=1#y"), options) == {}


@pytest.mark.parametrize("value", ["2026-11-25 09:30", "2026-11-25T09:30", "2026-11-25T25:00:00+08:00"])
def test_bad_datetime(form, options, valid_data, value):
    expected = {"discovered_at": ["请输入有效的日期时间"]}
    assert errors_for(form, valid_data(discovered_at=value), options) == expected


def test_bad_date(form, options, valid_data):
    assert errors_for(form, valid_data(filed_on="2026-02-30"), options) == {"filed_on": ["请输入有效的日期"]}


def test_the_format_checker_really_checks_date_time_date_and_uri():
    assert not FORMAT_CHECKER.conforms("2026-11-25", "date-time")
    assert FORMAT_CHECKER.conforms("2026-11-25T09:30:00+08:00", "date-time")
    assert not FORMAT_CHECKER.conforms("2026-11-31", "date")
    assert not FORMAT_CHECKER.conforms("not a uri", "uri")


def test_integer_type(form, options, valid_data):
    assert errors_for(form, valid_data(views="12"), options) == {"views": ["请输入整数"]}


def test_table_cell_errors_carry_the_cell_path(form, options, valid_data):
    members = [{"person": "张三", "phone": "电话"}, {"team": "publicity"}]
    errors = errors_for(form, valid_data(members=members), options)
    assert errors == {"members.0.phone": ["格式不正确"], "members.1.person": ["此项为必填项"]}


def test_list_items_carry_their_index(form, options, valid_data):
    errors = errors_for(form, valid_data(links=["https://a.example", "mailto:x@y"]), options)
    assert errors == {"links.1": ["请输入以 http:// 或 https:// 开头的链接"]}


def test_max_items_and_unique_items(form, options, valid_data):
    assert errors_for(form, valid_data(platforms=["weibo"] * 2), options) == {"platforms": ["不能有重复项"]}
    errors = errors_for(form, valid_data(platforms=["weibo", "wechat", "douyin", "x"]), options)
    assert errors["platforms"] == ["最多 3 项"]


def test_undeclared_fields_are_refused(form, options, valid_data):
    assert errors_for(form, valid_data(evil="x"), options) == {"evil": ["不允许的字段"]}


def test_read_only_fields_are_excluded(form, options, valid_data):
    assert errors_for(form, valid_data(proposed_level="bogus"), options) == {}


def test_rule_requires_reason_when_level_differs_from_context(form, options, valid_data):
    errors = errors_for(form, valid_data(confirmed_level=3), options)
    assert errors == {"level_change_reason": ["确认等级与系统建议不同，请填写调整理由"]}
    assert errors_for(form, valid_data(confirmed_level=3, level_change_reason="影响扩大"), options) == {}


def test_rule_uses_the_submission_not_stale_context(form, options, valid_data):
    context = {"proposed_level": 2, "level_change_reason": "旧理由"}
    errors = errors_for(form, valid_data(confirmed_level=3), options, context)
    assert "level_change_reason" in errors


def test_forbid_rule_refuses_with_its_message(form, options, valid_data):
    assert errors_for(form, valid_data(views=200_000_000), options) == {"views": ["阅读量超出合理范围"]}


def test_rule_that_cannot_be_evaluated_does_not_apply(form, options, valid_data):
    assert errors_for(form, valid_data(), options, context={}) == {}


def test_x_source_values_must_be_among_the_options(form, options, valid_data):
    assert errors_for(form, valid_data(lead_unit="u1", assist_units=["u2"]), options) == {}
    errors = errors_for(form, valid_data(lead_unit="u9", assist_units=["u1", "u7"]), options)
    assert errors == {"lead_unit": ["请选择有效的选项"], "assist_units.1": ["请选择有效的选项"]}


def test_x_source_without_options_allows_nothing(form, valid_data):
    assert errors_for(form, valid_data(lead_unit="u1"), {}) == {"lead_unit": ["请选择有效的选项"]}


def test_english_messages(form, options, valid_data):
    errors = errors_for(form, valid_data(title=None, views="x", url="ftp://x"), options, locale="en")
    assert errors == {
        "title": ["This field is required"],
        "views": ["Please enter a whole number"],
        "url": ["Please enter a link starting with http:// or https://"],
    }


def test_remote_refs_are_never_fetched(monkeypatch, make_schema, valid_data):
    def refuse(*args, **kwargs):
        raise AssertionError("a remote schema was fetched")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    schema = make_schema()
    schema["allOf"] = [{"$ref": "https://evil.example/schema.json"}]
    unchecked = FormSpec("ut_unchecked", schema, {})
    assert validate(unchecked, valid_data(), CONTEXT) == {"": ["格式不正确"]}


def test_local_refs_resolve(make_form, make_schema, options, valid_data):
    schema = make_schema()
    schema["$defs"] = {"with_url": {"required": ["url"]}}
    schema["allOf"] = [{"$ref": "#/$defs/with_url"}]
    form = make_form(schema)
    assert errors_for(form, valid_data(), options) == {"url": ["此项为必填项"]}


def test_patterns_run_on_re2(form, options, valid_data):
    # Python's re lets "$" match before a final newline; re2 (like ECMA-262) does not.
    members = [{"person": "张三", "phone": "010-1234\n"}]
    assert errors_for(form, valid_data(members=members), options) == {"members.0.phone": ["格式不正确"]}


def test_pattern_properties_run_on_re2(make_form, make_schema, options, valid_data):
    schema = make_schema()
    schema["patternProperties"] = {"^ext_[a-z]+$": {"type": "integer"}}
    form = make_form(schema)
    assert errors_for(form, valid_data(ext_a=1), options) == {}
    assert errors_for(form, valid_data(ext_a="x"), options) == {"ext_a": ["请输入整数"]}
    assert errors_for(form, valid_data(**{"ext_a\n": 1}), options) == {"ext_a\n": ["不允许的字段"]}


def test_huge_data_is_refused_before_validation(form, options, valid_data):
    errors = errors_for(form, valid_data(summary="字" * 100_000), options)
    assert errors == {"": ["提交的内容过多,请精简后再提交"]}


def test_json_schema_if_then_works(make_form, make_schema, options, valid_data):
    schema = make_schema()
    schema["allOf"] = [{
        "if": {"properties": {"source_type": {"const": "public_report"}}, "required": ["source_type"]},
        "then": {"required": ["url"]},
    }]
    form = make_form(schema)
    assert errors_for(form, valid_data(source_type="public_report"), options) == {"url": ["此项为必填项"]}
    assert errors_for(form, valid_data(source_type="self_monitoring"), options) == {}


def test_deeply_nested_data_never_raises(form, options, valid_data):
    deep = []
    for _ in range(5000):
        deep = [deep]
    assert errors_for(form, valid_data(members=deep), options) == {"": ["提交的内容过多,请精简后再提交"]}


def _conditional_levels(make_schema):
    """The sample form whose Ⅰ级 is offered only when the task data does not say the three-level scheme."""
    schema = make_schema()
    levels = schema["properties"]["confirmed_level"]["oneOf"]
    levels[0]["x-when"] = "levels_in_use != 'three'"
    return schema


def test_an_option_not_offered_for_the_task_is_refused(make_form, make_schema, options, valid_data):
    form = make_form(_conditional_levels(make_schema))
    three = {**CONTEXT, "levels_in_use": "three"}
    assert errors_for(form, valid_data(confirmed_level=1, level_change_reason="严重"), options, three) == {
        "confirmed_level": ["请选择有效的选项"]}
    assert errors_for(form, valid_data(confirmed_level=1, level_change_reason="严重"), options,
                      {**CONTEXT, "levels_in_use": "four"}) == {}
    assert errors_for(form, valid_data(confirmed_level=2), options, three) == {}


def test_an_option_whose_condition_cannot_be_evaluated_stays_offered(make_form, make_schema, options, valid_data):
    form = make_form(_conditional_levels(make_schema))
    assert errors_for(form, valid_data(confirmed_level=1, level_change_reason="严重"), options) == {}


def test_a_forbid_rule_explains_before_the_generic_message(make_form, make_schema, options, valid_data):
    schema = _conditional_levels(make_schema)
    schema["x-rules"].append({"when": "confirmed_level == 1 and levels_in_use == 'three'",
                              "forbid": "三级方案不设Ⅰ级", "field": "confirmed_level"})
    errors = errors_for(make_form(schema), valid_data(confirmed_level=1, level_change_reason="严重"), options,
                        {**CONTEXT, "levels_in_use": "three"})
    assert errors == {"confirmed_level": ["三级方案不设Ⅰ级", "请选择有效的选项"]}
