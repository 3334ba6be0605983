"""Loading and deploy-time checking of form schemas."""

import json

import pytest

from app.forms import FormSchemaError, FormSpec, check_schema, load_json

TITLED = {"type": "string", "title": "名称", "maxLength": 20}


def problems_for(schema, uischema=None):
    return "\n".join(check_schema("ut_x", schema, uischema))


def test_sample_form_passes_every_check(make_schema, uischema):
    assert check_schema("ut_sample", make_schema(), uischema) == []


@pytest.mark.parametrize(("content", "reason"), [
    (b'{"maximum": NaN}', "NaN is not allowed"),
    (b'{"maximum": -Infinity}', "-Infinity is not allowed"),
    (b'{"maximum": 1e400}', "out of range"),
    (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
    (b'[1, 2]', "must contain a JSON object"),
    (b'{"a": "\xff"}', "utf-8"),
    (b'{"a": ' * 40 + b'1' + b'}' * 40, "nested deeper than 32"),
    (b'[' * 150_000 + b']' * 150_000, "larger than 256 kB"),
    (b'{"a": [' + b'[' * 50_000 + b']' * 50_000 + b']}', "nested"),
])
def test_load_json_refuses_hostile_files(content, reason):
    with pytest.raises(FormSchemaError) as caught:
        load_json(content, "ut_x.schema.json")
    assert reason in caught.value.problems[0]
    assert caught.value.problems[0].startswith("ut_x.schema.json: ")


def test_load_json_accepts_a_plain_object():
    assert load_json('{"title": "登记", "n": 1.5}'.encode(), "x") == {"title": "登记", "n": 1.5}


def test_remote_ref_is_refused(make_schema):
    schema = make_schema(evil={"title": "恶意", "type": "string", "maxLength": 5,
                               "allOf": [{"$ref": "https://evil.example/schema.json"}]})
    assert "only local references" in problems_for(schema)


def test_local_ref_is_allowed(make_schema):
    schema = make_schema()
    schema["$defs"] = {"titled": {"required": ["title"]}}
    schema["allOf"] = [{"$ref": "#/$defs/titled"}]
    assert problems_for(schema) == ""


def test_nan_anywhere_is_refused(make_schema):
    schema = make_schema(views={"type": "integer", "title": "阅读量", "maximum": float("nan")})
    assert "$.properties.views.maximum: NaN and Infinity are not allowed" in problems_for(schema)


def test_backreference_pattern_is_refused_because_re2_cannot_compile_it(make_schema):
    schema = make_schema(code={**TITLED, "pattern": r"(a)\1"})
    assert "not supported by re2" in problems_for(schema)


def test_lookahead_in_pattern_properties_is_refused(make_schema):
    schema = make_schema()
    schema["patternProperties"] = {"(?=x)": {"type": "string"}}
    assert "patternProperties: pattern '(?=x)' is not supported by re2" in problems_for(schema)


def test_top_level_needs_additional_properties_false(make_schema):
    schema = make_schema()
    del schema["additionalProperties"]
    assert '$: objects need "additionalProperties": false' in problems_for(schema)


def test_table_rows_need_additional_properties_false(make_schema):
    schema = make_schema()
    schema["properties"]["members"]["items"]["additionalProperties"] = True
    assert "$.properties.members.items: objects need" in problems_for(schema)


@pytest.mark.parametrize(("name", "reason"), [
    ("len", "'len' is the name of an expression function"),
    ("_x", "field names must match"),
    ("Title", "field names must match"),
])
def test_bad_property_names_are_refused(make_schema, name, reason):
    assert f"ut_x: {name}: {reason}" in problems_for(make_schema(**{name: TITLED}))


def test_rule_expression_is_checked_by_the_evaluator(make_schema):
    schema = make_schema()
    schema["x-rules"] = [{"when": "__import__('os')", "forbid": "不行"}]
    problems = problems_for(schema)
    assert "ut_x: x-rules[0].when: line 1: name '__import__' starts with '_'" in problems


def test_rule_must_name_existing_fields(make_schema):
    schema = make_schema()
    schema["x-rules"] = [{"when": "True", "require": ["nope"], "message": "需要"}]
    assert "x-rules[0].require: unknown field 'nope'" in problems_for(schema)


@pytest.mark.parametrize(("prop", "reason"), [
    ({"type": "string", "title": "无上限"}, "string fields need maxLength"),
    ({"type": "string", "title": "太长", "maxLength": 100_001}, "string fields need maxLength"),
    ({"type": "array", "title": "无上限", "items": TITLED}, "arrays need maxItems"),
    ({"type": "string", "maxLength": 5}, "needs a title"),
    ({"type": "number", "title": "小数"}, "type must be one of"),
    ({"type": "string", "title": "选项", "oneOf": [{"const": "a"}]}, "each option needs const and title"),
])
def test_field_rules(make_schema, prop, reason):
    assert reason in problems_for(make_schema(extra=prop))


def test_enums_and_dates_need_no_max_length(make_schema):
    schema = make_schema(day={"type": "string", "title": "日期", "format": "date"},
                         unit={"type": "string", "title": "科室", "x-source": "org_units"})
    assert problems_for(schema) == ""


def test_uischema_key_for_unknown_field_is_refused(make_schema, uischema):
    uischema["nope"] = {"ui:widget": "textarea"}
    assert "uischema.nope: no such field" in problems_for(make_schema(), uischema)


@pytest.mark.parametrize(("change", "reason"), [
    ({"ui:order": ["title", "ghost"]}, "ui:order: no such field 'ghost'"),
    ({"ui:context": [{"key": "x"}]}, "must be an object with key, label and optionally as"),
    ({"ui:context": [{"key": "_secret", "label": "秘密"}]}, "must be a task data name"),
    ({"ui:prefill": {"proposed_level": "x"}}, "read-only fields"),
    ({"views": {"ui:widget": "textarea"}}, "does not fit a int field"),
    ({"members": {"ghost": {}}}, "members.ghost: unknown key or no such column"),
    ({"members": {"ui:options": {"blankRows": 99}}}, "from 0 to 20"),
])
def test_uischema_problems(make_schema, uischema, change, reason):
    uischema.update(change)
    assert reason in problems_for(make_schema(), uischema)


def test_metaschema_errors_are_reported(make_schema):
    schema = make_schema(views={"type": "integer", "title": "阅读量", "minimum": "zero"})
    assert "$.properties.views.minimum" in problems_for(schema)


def test_from_files_raises_with_every_problem(make_form, make_schema):
    schema = make_schema(len=TITLED, other={"type": "string", "title": "x"})
    with pytest.raises(FormSchemaError) as caught:
        make_form(schema)
    assert len(caught.value.problems) == 2


def test_from_files_refuses_nan_in_the_uischema(make_schema):
    with pytest.raises(FormSchemaError, match="NaN"):
        FormSpec.from_files("ut_x", json.dumps(make_schema()).encode(), b'{"views": {"ui:rows": NaN}}')


def test_a_conditional_option_needs_a_valid_expression(make_schema):
    schema = make_schema()
    schema["properties"]["confirmed_level"]["oneOf"][0]["x-when"] = "__import__('os')"
    assert "confirmed_level.oneOf[0].x-when: line 1: name '__import__' starts with '_'" in problems_for(schema)
    schema["properties"]["confirmed_level"]["oneOf"][0]["x-when"] = ""
    assert "confirmed_level.oneOf[0].x-when: must be an expression" in problems_for(schema)
    schema["properties"]["confirmed_level"]["oneOf"][0]["x-when"] = "levels_in_use != 'three'"
    assert problems_for(schema) == ""
