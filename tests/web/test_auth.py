"""Login, sessions, CSRF, security headers, rate limits and the interface language."""

from __future__ import annotations

import pytest

from app.extensions import db as _db
from app.extensions import limiter
from app.operations import users
from tests.conftest import PASSWORD, build_app, login


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, user_factory):
    user = user_factory(["monitor"])
    response = client.post("/login", data={"username": user.username, "password": "wrong password!"})
    unknown = client.post("/login", data={"username": "nobody_here", "password": "wrong password!"})
    assert response.status_code == unknown.status_code == 401
    assert "用户名或密码不正确" in response.get_data(as_text=True)
    assert response.get_data(as_text=True).count("用户名或密码不正确") == 1


def test_login_starts_a_fresh_session(client, user_factory):
    user = user_factory(["monitor"])
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, user)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_logout_ends_every_session_of_the_user(app, db, user_factory):
    user = user_factory(["monitor"])
    first, second = app.test_client(), app.test_client()
    login(first, user)
    login(second, user)
    assert second.get("/tasks").status_code == 200
    first.post("/logout")
    assert second.get("/tasks").status_code == 302  # the other session's cookie no longer works


def test_forms_need_the_csrf_token(app, client, user_factory):
    user = user_factory(["monitor"])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 400
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        ok = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token})
        assert ok.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_every_page_sends_the_security_headers(client, user_factory):
    login(client, user_factory(["monitor"]))
    response = client.get("/tasks")
    headers = response.headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "same-origin"


def test_an_initial_password_must_be_changed_first(client, db):
    user = users.create_user("fresh_user", "新用户", PASSWORD, ["monitor"], check_strength=False)
    assert user.must_change_password
    response = client.post("/login", data={"username": "fresh_user", "password": PASSWORD})
    assert response.headers["Location"].endswith("/account/password")
    assert client.get("/tasks").headers["Location"].endswith("/account/password")
    weak = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "short"})
    assert weak.status_code == 422 and "至少需要 12 个字符" in weak.get_data(as_text=True)
    common = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "password1234"})
    assert common.status_code == 422 and "过于常见" in common.get_data(as_text=True)
    changed = client.post("/account/password", data={"current_password": PASSWORD,
                                                       "new_password": "a much better passphrase"})
    assert changed.status_code == 302
    assert client.get("/tasks").status_code == 200


def test_english_on_request(client, user_factory):
    login(client, user_factory(["monitor"]))
    client.post("/lang/en", data={"next": "/tasks"})
    page = client.get("/tasks").get_data(as_text=True)
    assert "To-do" in page or "My tasks" in page
    assert '<html lang="en">' in page
    client.post("/lang/zh_CN", data={"next": "/tasks"})
    page = client.get("/tasks").get_data(as_text=True)
    assert "我的任务" in page and '<html lang="zh-CN">' in page


@pytest.fixture
def limited_app(tmp_path):
    # The limiter object is shared by every app of the test session; give its switch back afterwards.
    was_enabled = limiter.enabled
    application, drop = build_app(tmp_path, RATELIMIT_ENABLED=True)
    yield application
    limiter.enabled = was_enabled
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()
    drop()


def test_login_is_rate_limited_per_username(limited_app):
    client = limited_app.test_client()
    codes = [client.post("/login", data={"username": "someone", "password": f"guess number {i}"}).status_code
             for i in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    page = client.post("/login", data={"username": "someone", "password": "x"}).get_data(as_text=True)
    assert "登录尝试过于频繁" in page
