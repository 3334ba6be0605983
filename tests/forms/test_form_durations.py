"""Durations and reminder cycles: typed as a number and a unit, stored as the ISO spelling the processes read,
read back as words (docs/forms.md, Durations)."""

import json
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.engine import helpers
from app.engine.spec_checks import check_timer_value
from app.forms import (
    FormSchemaError,
    FormSpec,
    build_fields,
    check_schema,
    check_submission,
    display_text,
    duration_words,
    keep_spelling,
    summary,
    validate,
)
from app.forms.durations import MAX_MINUTES, UNITS, cycle_from_input, cycle_to_input, from_input, to_input

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "时限", "type": "object",
    "additionalProperties": False, "required": ["report_within"],
    "properties": {
        "report_within": {"type": "string", "title": "快报时限", "format": "duration", "description": "自发现时间起算"},
        "watch": {"type": "string", "title": "跟踪期", "format": "duration", "default": "P7D"},
        "reminder": {"type": "string", "title": "提醒周期", "format": "duration-cycle"},
    },
}


@pytest.fixture
def form():
    return FormSpec("limits", SCHEMA)


def post(**fields):
    return {name.replace("__", "."): [value] for name, value in fields.items()}


@pytest.mark.parametrize(("iso", "typed", "words", "english"), [
    ("PT30M", ("30", "minutes"), "30分钟", "30 minutes"),
    ("PT4H", ("4", "hours"), "4小时", "4 hours"),
    ("PT1H", ("1", "hours"), "1小时", "1 hour"),
    ("P7D", ("7", "days"), "7天", "7 days"),
    ("P1D", ("1", "days"), "1天", "1 day"),
    ("P15D", ("15", "days"), "15天", "15 days"),
    ("PT24H", ("24", "hours"), "24小时", "24 hours"),
    ("PT90M", ("90", "minutes"), "90分钟", "90 minutes"),
])
def test_a_duration_is_typed_in_its_own_unit_and_read_as_words(iso, typed, words, english):
    assert to_input(iso) == typed
    assert from_input(int(typed[0]), typed[1]) == (iso, None)
    assert duration_words(iso) == words and duration_words(iso, "en") == english


def test_a_duration_of_several_parts_is_typed_in_the_largest_unit_that_measures_it():
    assert to_input("P1DT12H") == ("36", "hours") and duration_words("P1DT12H") == "1天12小时"
    assert to_input("P2DT0H") == ("2", "days") and duration_words("P2DT0H") == "2天"
    assert to_input("PT1H30M") == ("90", "minutes") and duration_words("PT1H30M", "en") == "1 hour 30 minutes"


def test_a_cycle_is_typed_as_interval_unit_and_repeats_and_read_as_words():
    assert cycle_to_input("R3/PT1H") == ("1", "hours", "3")
    assert cycle_from_input(1, "hours", 3) == ("R3/PT1H", None)
    assert cycle_from_input(30, "minutes", 1000) == ("R1000/PT30M", None)
    field = FormSpec("limits", SCHEMA).by_name["reminder"]
    assert display_text(field, "R3/PT1H") == "每1小时,最多3次"
    assert display_text(field, "R2/P1D", locale="en") == "every 1 day, at most 2 times"


@pytest.mark.parametrize(("amount", "unit", "error"), [
    (0, "minutes", "请输入大于 0 的整数"),
    (-5, "hours", "请输入大于 0 的整数"),
    (None, "minutes", "请输入整数"),
    (30, "weeks", "请选择有效的选项"),
    (30, "", "请选择有效的选项"),
    (3661, "days", "时长不能超过 3660 天"),
    (MAX_MINUTES + 1, "minutes", "时长不能超过 3660 天"),
    (10**15, "hours", "时长不能超过 3660 天"),
])
def test_refused_durations_say_why(amount, unit, error):
    assert from_input(amount, unit) == (None, error)
    assert cycle_from_input(amount, unit, 3) == (None, error)


@pytest.mark.parametrize("times", [0, -1, 1001, None])
def test_a_cycle_repeats_from_once_to_the_engines_cap(times):
    assert cycle_from_input(1, "hours", times) == (None, "提醒次数须为 1 到 1000 之间的整数")


@given(st.integers(min_value=1, max_value=MAX_MINUTES), st.sampled_from(UNITS), st.integers(1, 1000))
def test_every_accepted_value_round_trips_and_the_engine_takes_it(minutes, unit, times):
    amount = max(1, minutes // {"minutes": 1, "hours": 60, "days": 1440}[unit])
    iso, error = from_input(amount, unit)
    assert error is None and to_input(iso) == (str(amount), unit)
    assert helpers.parse_duration(iso) == timedelta(minutes=amount * {"minutes": 1, "hours": 60, "days": 1440}[unit])
    check_timer_value(iso, cycle=False)
    cycle, error = cycle_from_input(amount, unit, times)
    assert error is None and cycle_to_input(cycle) == (str(amount), unit, str(times))
    check_timer_value(cycle, cycle=True)


def test_the_page_shows_number_and_unit_never_the_iso_code(form):
    fields = {f.name: f for f in build_fields(form, {"report_within": "PT30M", "reminder": "R3/PT1H"})}
    report = fields["report_within"]
    assert report.widget == "duration" and [part.name for part in report.parts] == ["report_within",
                                                                                    "report_within.unit"]
    assert report.parts[0].value == "30" and report.parts[0].id == report.id
    assert [(code, label) for code, label, chosen in report.parts[1].choices if chosen] == [("minutes", "分钟")]
    assert [label for _code, label, _chosen in report.parts[1].choices] == ["分钟", "小时", "天"]
    assert fields["watch"].parts[0].value == "7"  # the schema default, in its unit
    reminder = fields["reminder"]
    assert reminder.widget == "cycle" and [part.value for part in reminder.parts] == ["1", "hours", "3"]
    assert reminder.words == ["每", "提醒一次,最多", "次"]


def test_a_post_is_stored_as_iso_and_read_back_as_words(form):
    submission = check_submission(form, post(report_within="45", report_within__unit="minutes", watch="２",
                                             watch__unit="days", reminder="2", reminder__unit="hours",
                                             reminder__times="5"), {})
    assert submission.errors == {}
    assert submission.data == {"report_within": "PT45M", "watch": "P2D", "reminder": "R5/PT2H"}
    read = [("快报时限", "45分钟"), ("跟踪期", "2天"), ("提醒周期", "每2小时,最多5次")]
    assert summary(form, submission.data) == read


@pytest.mark.parametrize(("fields", "path"), [
    ({"report_within": "0", "report_within__unit": "minutes"}, "report_within"),
    ({"report_within": "-3", "report_within__unit": "hours"}, "report_within"),
    ({"report_within": "9" * 25, "report_within__unit": "days"}, "report_within"),
    ({"report_within": "半小时", "report_within__unit": "minutes"}, "report_within"),
    ({"report_within": "30", "report_within__unit": "weeks"}, "report_within"),
    ({"report_within": "PT30M", "report_within__unit": "minutes"}, "report_within"),
    ({"report_within": "30", "report_within__unit": "minutes", "reminder": "1", "reminder__unit": "hours"},
     "reminder"),
    ({"report_within": "30", "report_within__unit": "minutes", "reminder__times": "3"}, "reminder"),
])
def test_refused_input_is_kept_and_the_error_shows_at_the_field(form, fields, path):
    submission = check_submission(form, post(**fields), {})
    assert list(submission.errors) == [path] and path not in submission.data
    shown = {f.name: f for f in build_fields(form, {}, submission.raw, submission.errors)}[path]
    assert shown.errors and all(part.errors for part in shown.parts)
    assert [part.value for part in shown.parts][:2] == [fields.get(path, ""), fields.get(f"{path}__unit", "")]


def test_blank_is_blank_and_a_required_duration_says_so(form):
    submission = check_submission(form, post(report_within=" ", report_within__unit="minutes",
                                             reminder="", reminder__unit="hours", reminder__times=""), {})
    assert submission.data == {} and submission.errors == {"report_within": ["此项为必填项"]}


@pytest.mark.parametrize(("field", "value"), [
    ("report_within", "PT0M"), ("report_within", "P3661D"), ("report_within", "P1W"), ("report_within", "PT30S"),
    ("report_within", "PT"), ("report_within", "P1DT"), ("report_within", "30"), ("report_within", "R3/PT1H"),
    ("reminder", "PT1H"), ("reminder", "R0/PT1H"), ("reminder", "R1001/PT1H"), ("reminder", "R3/PT0M"),
])
def test_stored_values_outside_the_fields_bounds_are_refused(form, field, value):
    errors = validate(form, {"report_within": "PT30M", field: value}, {})
    assert errors == {field: ["请输入有效的提醒周期" if field == "reminder" else "请输入有效的时长"]}


def test_an_unreadable_stored_value_shows_as_it_is():
    field = FormSpec("limits", SCHEMA).by_name["report_within"]
    assert display_text(field, "P1W") == "P1W" and to_input("P1W") == ("P1W", "minutes")


def test_a_value_that_means_what_was_stored_keeps_the_stored_spelling(form):
    stored = {"report_within": "P1DT12H", "watch": "PT0H30M", "reminder": "R3/PT60M"}
    posted = {"report_within": "PT36H", "watch": "PT45M", "reminder": "R3/PT1H"}
    assert keep_spelling(form.fields, stored, posted) == {"report_within": "P1DT12H", "watch": "PT45M",
                                                          "reminder": "R3/PT60M"}


@pytest.mark.parametrize(("prop", "problem"), [
    ({"type": "string", "title": "t", "format": "duration", "default": "PT0M"}, "x.default: not a duration"),
    ({"type": "string", "title": "t", "format": "duration-cycle", "default": "PT1H"},
     "x.default: not a duration-cycle"),
])
def test_a_default_the_field_would_refuse_is_refused_at_deploy(prop, problem):
    schema = {**SCHEMA, "required": [], "properties": {"x": prop}}
    assert any(problem in text for text in check_schema("f", schema))


def test_durations_are_fields_of_their_own_not_cells_or_list_items():
    duration = {"type": "string", "title": "时长", "format": "duration"}
    table = {"type": "array", "title": "表", "maxItems": 3, "items": {
        "type": "object", "additionalProperties": False, "properties": {"wait": duration}}}
    listed = {"type": "array", "title": "表", "maxItems": 3, "items": duration}
    schema = {**SCHEMA, "required": [], "properties": {"rows": table, "items": listed}}
    with pytest.raises(FormSchemaError) as refused:
        FormSpec.from_files("f", json.dumps(schema).encode())
    assert len([p for p in refused.value.problems if "not a table cell or list item" in p]) == 2


def test_a_duration_needs_no_max_length_and_takes_no_widget():
    assert check_schema("f", SCHEMA) == []
    assert any("does not fit a duration field" in problem
               for problem in check_schema("f", SCHEMA, {"report_within": {"ui:widget": "textarea"}}))
