"""Error pages: in Chinese by default (English when the person chose it), inside the app's layout, saying
what happened and linking back; the JSON API and scripts asking for JSON get JSON. CSRF protection is on
in these tests, as in production."""

from __future__ import annotations

import logging
import re

import pytest
from werkzeug.exceptions import (
    BadRequest,
    Forbidden,
    ImATeapot,
    InternalServerError,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
    TooManyRequests,
)

from tests.conftest import PASSWORD, make_user

WERKZEUG_ENGLISH = ("Bad Request", "CSRF token", "Not Found", "Method Not Allowed", "Internal Server Error",
                    "Request Entity Too Large", "Too Many Requests", "Forbidden", "The browser (or proxy)")


@pytest.fixture
def csrf(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def _token(client, url="/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


def _signed_in(app, roles=("monitor",)):
    user = make_user(list(roles))
    client = app.test_client()
    assert client.post("/login", data={"username": user.username, "password": PASSWORD,
                                       "csrf_token": _token(client)}).status_code == 302
    return client, user


def assert_error_page(response, status: int, *texts: str, back: str | None = None, home: str = "/tasks") -> str:
    """The page of `status`: the layout, the texts, a link back (to `back`, else home) and no English."""
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[:500]
    assert response.mimetype == "text/html"
    assert 'class="topbar"' in body and "网络舆情应急处置平台" in body and "内部资料 注意保密" in body
    assert f'data-status="{status}"' in body
    for text in texts:
        assert text in body
    assert f'href="{home}" data-testid="home"' in body
    if back:
        assert f'href="{back}" data-testid="back"' in body
    for english in WERKZEUG_ENGLISH:
        assert english not in body
    return body


def test_a_missing_csrf_token_says_the_page_expired(app, client, db, csrf):
    response = client.post("/login", data={"username": "someone", "password": "x"},
                           headers={"Referer": "http://localhost/login"})
    assert_error_page(response, 400, "页面已过期", "刷新", back="/login", home="/login")


def test_an_expired_form_of_a_signed_in_person_links_back_to_it(app, db, csrf):
    client, _user = _signed_in(app)
    response = client.post("/incidents/new", data={"csrf_token": "stale"}, headers={"Referer": "http://localhost/tasks"})
    assert_error_page(response, 400, "页面已过期", back="/tasks")


def test_only_this_sites_pages_are_offered_as_the_way_back(app, client, db, csrf):
    for referrer in ("https://evil.example/login", "http://localhost//evil.example/x", "javascript:alert(1)"):
        body = assert_error_page(client.post("/login", headers={"Referer": referrer}), 400, home="/login")
        assert 'data-testid="back"' not in body and "evil" not in body


def test_a_nul_byte_gets_the_400_page(app, client, db, csrf):
    response = client.post("/login", data={"username": "a\x00b", "password": "x", "csrf_token": _token(client)})
    assert_error_page(response, 400, "请求无法处理", home="/login")


def test_unknown_pages_and_wrong_methods(app, db, csrf):
    client, _user = _signed_in(app)
    assert_error_page(client.get("/no/such/page"), 404, "找不到该页面")
    not_allowed = client.get("/logout")
    assert_error_page(not_allowed, 405, "不能以这种方式访问")
    assert "POST" in not_allowed.headers["Allow"]
    assert_error_page(app.test_client().get("/no/such/page"), 404, "找不到该页面", home="/login")


def test_a_refused_operation_is_a_page_in_the_layout(app, db, csrf):
    client, _user = _signed_in(app, ["monitor"])
    response = client.get("/tasks/00000000-0000-4000-8000-000000000000")
    assert_error_page(response, 404)


def test_too_large_without_files_does_not_talk_about_attachments(app, client, db, csrf, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    response = client.post("/login", data={"username": "x" * (2 * 1024 * 1024), "password": "x"})
    body = assert_error_page(response, 413, "提交的内容过大(上限 1 MB)", home="/login")
    assert "附件" not in body


@pytest.mark.parametrize(("error", "text"), [
    (BadRequest(), "请求无法处理"), (Forbidden(), "没有权限"), (NotFound(), "找不到该页面"),
    (MethodNotAllowed(["POST"]), "不能以这种方式访问"), (RequestEntityTooLarge(), "提交的内容过大"),
    (TooManyRequests(), "操作过于频繁"), (InternalServerError(), "服务器内部错误"), (ImATeapot(), "错误代码 418"),
])
def test_every_http_error_is_a_chinese_page_with_a_way_back(app, db, error, text):
    with app.test_request_context("/somewhere", headers={"Referer": "http://localhost/alerts"}):
        response = app.make_response(app.handle_http_exception(error))
    assert_error_page(response, error.code, text, back="/alerts", home="/login")


def test_an_unexpected_exception_is_logged_and_gets_the_500_page(app, db, monkeypatch, caplog):
    client, _user = _signed_in(app)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production

    def broken(*_args):
        raise RuntimeError("boom")

    monkeypatch.setattr("app.operations.worklist.list_page", broken)
    with caplog.at_level(logging.ERROR):
        response = client.get("/tasks", headers={"Referer": "http://localhost/inbox"})
    assert_error_page(response, 500, "服务器内部错误", "系统管理员", back="/inbox")
    assert any(record.exc_info and "boom" in str(record.exc_info[1]) for record in caplog.records)


def test_the_500_page_survives_a_broken_layout(app, db, monkeypatch):
    client, _user = _signed_in(app)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setattr("app.operations.worklist.list_page", lambda *_args: 1 / 0)

    def no_layout(*_args, **_kwargs):
        raise RuntimeError("the database is gone")

    monkeypatch.setattr("app.web.errors.render_template", no_layout)
    response = client.get("/tasks")
    assert response.status_code == 500 and "服务器内部错误" in response.get_data(as_text=True)


def test_under_testing_unexpected_exceptions_reach_the_test(app, db, monkeypatch):
    client, _user = _signed_in(app)
    monkeypatch.setattr("app.operations.worklist.list_page", lambda *_args: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        client.get("/tasks")


def test_error_pages_speak_english_when_the_person_chose_it(app, db, csrf):
    client, _user = _signed_in(app)
    assert client.post("/lang/en", data={"csrf_token": _token(client, "/tasks"), "next": "/tasks"}).status_code == 302
    body = client.get("/no/such/page").get_data(as_text=True)
    assert "Page not found" in body and "Back to To-do" in body and "找不到该页面" not in body
    expired = client.post("/incidents/new", data={"csrf_token": "stale"}).get_data(as_text=True)
    assert "This page has expired" in expired and "页面已过期" not in expired


def test_the_api_and_scripts_get_json(app, client, db, csrf):
    missing = client.post("/api/v1/alerts/nothing")
    assert missing.status_code == 404 and missing.json["error"] == 404 and "找不到" in missing.json["message"]
    script = client.post("/studio/preview-form", json={}, headers={"Accept": "application/json"})
    assert script.status_code == 400 and "页面已过期" in script.json["message"]
