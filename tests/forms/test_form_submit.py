"""Parsing posted forms into typed data, including hostile posts."""

import json

import pytest

from app.forms import check_submission, parse_submission


def post(**fields):
    """A post as werkzeug's MultiDict.to_dict(flat=False) returns it; dots become '.' in names."""
    return {key.replace("__", "."): value if isinstance(value, list) else [value]
            for key, value in fields.items()}


def test_text_is_stripped_and_blank_optional_fields_are_omitted(form, options):
    submission = parse_submission(form, post(title="  标题  ", summary="   "), options)
    assert submission.data == {"title": "标题", "start_plan": False}
    assert submission.raw["summary"] == "   "


def test_textarea_line_endings_are_normalised(form, options):
    submission = parse_submission(form, post(summary="第一行\r\n第二行"), options)
    assert submission.data["summary"] == "第一行\n第二行"


@pytest.mark.parametrize(("typed", "expected"), [("12", 12), ("１２", 12), ("1,200", 1200), ("-3", -3)])
def test_integers_are_coerced(form, options, typed, expected):
    assert parse_submission(form, post(views=typed), options).data["views"] == expected


@pytest.mark.parametrize("typed", ["abc", "1.5", "9" * 20])
def test_non_integers_keep_raw_and_report(form, options, typed):
    submission = parse_submission(form, post(views=typed), options)
    assert "views" not in submission.data
    assert submission.raw["views"] == typed
    assert submission.errors["views"] == ["请输入整数"]


def test_bool_radio_distinguishes_no_from_unanswered(form, options):
    assert parse_submission(form, post(is_false_info="false"), options).data["is_false_info"] is False
    assert parse_submission(form, post(is_false_info="true"), options).data["is_false_info"] is True
    assert "is_false_info" not in parse_submission(form, post(), options).data


def test_bool_checkbox_absent_means_false(form, options):
    assert parse_submission(form, post(), options).data["start_plan"] is False
    assert parse_submission(form, post(start_plan="true"), options).data["start_plan"] is True


def test_integer_enum_is_coerced_and_bad_value_reported(form, options):
    assert parse_submission(form, post(confirmed_level="2"), options).data["confirmed_level"] == 2
    submission = parse_submission(form, post(confirmed_level="二级"), options)
    assert submission.errors == {"confirmed_level": ["请选择有效的选项"]}


def test_checkboxes_repeat_the_name_and_are_deduplicated(form, options):
    submission = parse_submission(form, post(platforms=["weibo", "douyin", "weibo", ""]), options)
    assert submission.data["platforms"] == ["weibo", "douyin"]
    assert submission.raw["platforms"] == ["weibo", "douyin"]


def test_too_many_checkboxes_are_capped(form, options):
    submission = parse_submission(form, post(platforms=["a", "b", "c", "d", "e"]), options)
    assert submission.data["platforms"] == ["a", "b", "c"]
    assert submission.errors["platforms"] == ["最多 3 项"]


@pytest.mark.parametrize(("typed", "expected"), [
    ("2026-11-25T09:30", "2026-11-25T09:30:00+08:00"),
    ("2026-11-25T09:30:15", "2026-11-25T09:30:15+08:00"),
    ("2026-11-25T01:30:00Z", "2026-11-25T09:30:00+08:00"),
    ("2026-11-25T03:30:00+02:00", "2026-11-25T09:30:00+08:00"),
])
def test_datetime_local_is_read_in_shanghai_and_stored_with_offset(form, options, typed, expected):
    assert parse_submission(form, post(discovered_at=typed), options).data["discovered_at"] == expected


@pytest.mark.parametrize("typed", ["2026-13-01T09:30", "2026-11-25", "昨天", "20261125T0930"])
def test_bad_datetimes_are_reported(form, options, typed):
    submission = parse_submission(form, post(discovered_at=typed), options)
    assert submission.errors["discovered_at"] == ["请输入有效的日期时间"]
    assert submission.raw["discovered_at"] == typed


def test_dates_are_checked_against_the_calendar(form, options):
    assert parse_submission(form, post(filed_on="2028-02-29"), options).data["filed_on"] == "2028-02-29"
    errors = parse_submission(form, post(filed_on="2026-02-29"), options).errors
    assert errors["filed_on"] == ["请输入有效的日期"]


def test_table_rows_skip_blank_rows_and_renumber(form, options):
    formdata = post(members__0__person="张三", members__0__phone="010-1", members__1__person="",
                    members__1__phone=" ", members__2__person="李四", members__2__team="publicity")
    submission = parse_submission(form, formdata, options)
    assert submission.data["members"] == [
        {"person": "张三", "phone": "010-1"},
        {"team": "publicity", "person": "李四"},
    ]
    assert submission.raw["members.1.person"] == "李四"
    assert "members.2.person" not in submission.raw


def test_list_of_urls_ignores_blank_entries(form, options):
    formdata = post(links__0="https://a.example/1", links__1="", links__3="https://b.example/2")
    submission = parse_submission(form, formdata, options)
    assert submission.data["links"] == ["https://a.example/1", "https://b.example/2"]
    assert submission.raw["links.1"] == "https://b.example/2"


def test_read_only_fields_are_never_taken_from_the_post(form, options):
    submission = parse_submission(form, post(proposed_level="1"), options)
    assert "proposed_level" not in submission.data
    assert "proposed_level" not in submission.raw


def test_hostile_keys_change_nothing_outside_declared_fields(form, options):
    formdata = post(_x="1", __proto__="{}", constructor="x", title="标题", **{"title.0": "x"})
    formdata["__proto__"] = ["polluted"]
    submission = parse_submission(form, formdata, options)
    assert set(submission.data) == {"title", "start_plan"}
    assert set(submission.raw) <= {d.name for d in form.fields}


def test_ten_thousand_rows_are_capped_at_max_items(form, options):
    formdata = {f"members.{i}.person": [f"人{i}"] for i in range(10_000)}
    submission = parse_submission(form, formdata, options)
    assert len(submission.data["members"]) == 50
    assert submission.errors["members"] == ["最多 50 项"]
    assert max(int(key.split(".")[1]) for key in submission.raw if key.startswith("members.")) == 49


def test_a_one_megabyte_string_is_refused_without_storing_it(form, options):
    submission = parse_submission(form, post(title="长" * 1_000_000), options)
    assert "title" not in submission.data
    assert submission.errors["title"] == ["最多 200 个字符"]
    assert len(submission.raw["title"]) == 200


def test_malformed_values_never_raise(form, options):
    formdata = {"title": None, "views": [1, 2], "platforms": "weibo", "members.0.person": {"a": 1},
                "members.99999999999.person": ["x"], 7: ["seven"]}
    submission = parse_submission(form, formdata, options)
    assert submission.data == {"platforms": ["weibo"], "start_plan": False}


def test_data_over_256_kb_is_refused(make_form, make_schema):
    big = {"type": "string", "title": "长文", "maxLength": 100_000}
    form = make_form(make_schema(big_a=big, big_b=big), {})
    submission = parse_submission(form, {"big_a": ["字" * 50_000], "big_b": ["字" * 50_000]}, {})
    assert len(json.dumps(submission.data, ensure_ascii=False).encode()) > 256 * 1024
    assert submission.errors[""] == ["提交的内容过多,请精简后再提交"]


def test_check_submission_shows_the_coercion_error_not_also_required(form, options):
    formdata = post(title="标题", confirmed_level="abc")
    submission = check_submission(form, formdata, {"proposed_level": 2}, options)
    assert submission.errors["confirmed_level"] == ["请选择有效的选项"]
    assert submission.errors["source_type"] == ["此项为必填项"]
