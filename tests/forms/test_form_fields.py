"""Matching free text (a platform's name in a lead) to a choice field's option."""

import pytest

from app.forms import match_choice

PLATFORM = {"type": "string", "title": "发布平台", "oneOf": [
    {"const": "weibo", "title": "微博"}, {"const": "wechat", "title": "微信"}, {"const": "tieba", "title": "贴吧"},
    {"const": "news_site", "title": "新闻网站"}, {"const": "other", "title": "其他"}]}


@pytest.mark.parametrize(("text", "value"), [
    ("weibo", "weibo"), (" WeiBo ", "weibo"), ("微博", "weibo"), ("ｗｅｉｂｏ", "weibo"), ("news site", "news_site"),
    ("新浪微博", "weibo"), ("百度贴吧", "tieba"), ("其他", "other"),
])
def test_a_choice_is_found_by_value_label_or_a_label_inside_the_text(text, value):
    assert match_choice(PLATFORM, text) == value


@pytest.mark.parametrize("text", ["B站", "", "   ", "微博和微信"])
def test_unknown_blank_or_ambiguous_text_matches_nothing(text):
    assert match_choice(PLATFORM, text) is None


def test_x_source_options_are_matched_too():
    units = {"type": "string", "title": "单位", "x-source": "org_units"}
    assert match_choice(units, "社会保险科", {"org_units": [("social_insurance", "社会保险科")]}) == "social_insurance"
