"""Login, sessions, CSRF, security headers, rate limits and the interface language."""

from __future__ import annotations

import re

import pytest

from app.extensions import db as _db
from app.extensions import limiter
from app.operations import users
from tests.conftest import PASSWORD, build_app, login, make_user
from tests.notify.loopback import free_port


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
    assert "组内" in page and "已办" in page and '<html lang="zh-CN">' in page


@pytest.fixture
def limited_app(tmp_path):
    # The limiter object is shared by every app of the test session; give its switch back afterwards.
    was_enabled = limiter.enabled
    application, drop = build_app(tmp_path, RATELIMIT_ENABLED=True, LOGIN_LIMIT_ADDRESS="12 per 15 minutes",
                                  LOGIN_LIMIT_ADDRESS_N=12)
    yield application
    limiter.enabled = was_enabled
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()
    drop()


def test_failed_logins_lock_the_account_and_say_when_to_retry(limited_app, fake_clock):
    client = limited_app.test_client()
    codes = [client.post("/login", data={"username": "Someone", "password": f"guess number {i}"}).status_code
             for i in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    response = client.post("/login", data={"username": "someone", "password": "x"})
    page = response.get_data(as_text=True)
    assert response.status_code == 429 and "该账号登录失败次数过多,已暂时锁定" in page
    # The time shown is on the platform's (pinned, 09:00) clock, as every other time on the pages.
    assert re.search(r"请在 09:1[0-5] 后\(约 1[0-5] 分钟\)再试", page), page
    assert int(response.headers["Retry-After"]) > 60
    # The lock is the account's: a colleague behind the same address still logs in.
    with limited_app.app_context():
        colleague = make_user(["monitor"])
    assert client.post("/login", data={"username": colleague.username, "password": PASSWORD}).status_code == 302


def test_successful_logins_never_count(limited_app):
    """A shift change: twenty colleagues log in from one office address, then one mistypes."""
    with limited_app.app_context():
        people = [make_user(["monitor"]) for _ in range(limited_app.config["LOGIN_LIMIT_ADDRESS_N"] + 5)]
    for person in people:
        client = limited_app.test_client()
        assert client.post("/login", data={"username": person.username, "password": PASSWORD}).status_code == 302
    same = limited_app.test_client()
    assert same.post("/login", data={"username": people[0].username, "password": "typo!"}).status_code == 401
    for _ in range(10):  # and one person logging in and out all day is never locked either
        assert same.post("/login", data={"username": people[1].username, "password": PASSWORD}).status_code == 302
        same.post("/logout", data={})
        same = limited_app.test_client()


def test_an_address_gets_a_larger_allowance_than_an_account(limited_app):
    client = limited_app.test_client()
    allowance = limited_app.config["LOGIN_LIMIT_ADDRESS_N"]
    codes = [client.post("/login", data={"username": f"person{i // 4}", "password": "wrong"}).status_code
             for i in range(allowance)]
    assert set(codes) == {401}  # four failures each for many accounts: none of them locked yet
    response = client.post("/login", data={"username": "another", "password": "wrong"})
    page = response.get_data(as_text=True)
    assert response.status_code == 429 and "从您所在的网络地址登录失败的次数过多" in page
    assert "该账号" not in page


# -- demo accounts outside development ------------------------------------------------------------


@pytest.fixture
def demo_app(tmp_path, request):
    """A database on which `yuqing seed-demo` made the demo accounts in development (passwords printed,
    no change required), now served as `request.param`."""
    application, drop = build_app(tmp_path, YQ_ENV=request.param, SESSION_COOKIE_SECURE=False)
    with application.app_context():
        passwords = {a.username: a.password for a in users.seed_demo_users(must_change_password=False)}
    yield application, passwords
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()
    drop()


@pytest.mark.parametrize("demo_app", ["production"], indirect=True)
def test_production_refuses_demo_accounts_that_keep_their_printed_password(demo_app):
    app, passwords = demo_app
    client = app.test_client()
    refused = client.post("/login", data={"username": "admin", "password": passwords["admin"]})
    assert refused.status_code == 403 and "演示账号" in refused.get_data(as_text=True)
    assert client.get("/admin/failures").status_code == 302  # not logged in
    with app.app_context():
        users.change_password(users.authenticate("office", passwords["office"]).id, passwords["office"],
                              "a much better passphrase")
    assert client.post("/login", data={"username": "office", "password": "a much better passphrase"}
                       ).status_code == 302  # a changed password is an ordinary account's
    health = client.get("/healthz").get_json()
    assert health["demo_accounts"] == {"count": len(passwords) - 1, "login_refused": True}


@pytest.mark.parametrize("demo_app", ["production"], indirect=True)
def test_a_session_a_demo_account_opened_before_production_ends(demo_app):
    app, passwords = demo_app
    client = app.test_client()
    app.config.update(YQ_ENV="development", DEMO_PASSWORDS_ALLOWED=True)  # where the session was opened
    assert client.post("/login", data={"username": "admin", "password": passwords["admin"]}).status_code == 302
    assert client.get("/admin/failures").status_code == 200
    app.config.update(YQ_ENV="production", DEMO_PASSWORDS_ALLOWED=False)
    assert client.get("/admin/failures").headers["Location"].startswith("/login")


@pytest.mark.parametrize("demo_app", ["staging"], indirect=True)
def test_outside_development_a_demo_account_changes_its_printed_password_first(demo_app):
    app, passwords = demo_app
    client = app.test_client()
    assert client.get("/healthz").get_json()["status"] == "degraded"  # printed passwords still work here
    response = client.post("/login", data={"username": "admin", "password": passwords["admin"]})
    assert response.headers["Location"].endswith("/account/password")
    assert client.get("/admin/failures").headers["Location"].endswith("/account/password")
    changed = client.post("/account/password", data={"current_password": passwords["admin"],
                                                       "new_password": "a much better passphrase"})
    assert changed.status_code == 302 and client.get("/admin/failures").status_code == 200
    assert client.get("/healthz").get_json()["demo_accounts"]["count"] == len(passwords) - 1


# -- rate-limit storage down ----------------------------------------------------------------------


@pytest.fixture
def unreachable_limits_app(tmp_path):
    """Rate limits kept in a Redis that is down: nothing listens on the port."""
    was_enabled = limiter.enabled
    application, drop = build_app(tmp_path, RATELIMIT_ENABLED=True,
                                  RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0")
    yield application
    limiter.enabled = was_enabled
    limiter._storage_dead = False  # the limiter object outlives this app; the next one starts afresh
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()
    drop()


def test_login_works_and_is_still_limited_in_memory_when_the_limit_storage_is_down(unreachable_limits_app, caplog):
    app = unreachable_limits_app
    with app.app_context():
        user = make_user(["monitor"])
    client = app.test_client()
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    assert client.get("/tasks").status_code == 200
    assert any(r.levelname == "ERROR" and "rate-limit storage" in r.getMessage() for r in caplog.records)
    other = app.test_client()
    codes = [other.post("/login", data={"username": "someone", "password": f"guess {i}"}).status_code
             for i in range(6)]
    assert codes[0] == 401 and codes[-1] == 429  # the limits still hold, counted in this process
    health = client.get("/healthz").get_json()
    assert health["ratelimit"] == {"ok": False} and health["status"] == "degraded"
