"""Demo accounts: seed-demo marks their printed passwords, a change clears the mark, and migration 0010
marks the demo accounts seeded before it (unless their holder had changed the password)."""

from __future__ import annotations

import importlib

from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from app.extensions import db as _db
from app.models import User
from app.operations import users
from tests.conftest import build_app

DEMO_ACCOUNTS = importlib.import_module("app.migrations.versions.0010_demo_passwords").DEMO_ACCOUNTS


def _flags() -> dict[str, bool]:
    _db.session.remove()
    return dict(_db.session.execute(select(User.username, User.demo_password)).all())


def test_seed_demo_marks_printed_passwords_and_a_change_clears_the_mark(db):
    accounts = {a.username: a.password for a in users.seed_demo_users(must_change_password=False)}
    users.create_user("zhang_san", "张三", "a much better passphrase", ["monitor"], check_strength=False)
    assert users.seed_demo_users() == []  # nothing twice
    flags = dict(db.session.execute(select(User.username, User.demo_password)).all())
    assert flags == {**dict.fromkeys(accounts, True), "zhang_san": False}
    user = users.change_password(users.authenticate("admin", accounts["admin"]).id, accounts["admin"],
                                 "another much better passphrase")
    assert user.demo_password is False and user.must_change_password is False


def test_migration_0010_marks_the_demo_accounts_seeded_before_it(tmp_path):
    app, drop = build_app(tmp_path)
    try:
        with app.app_context():
            accounts = {a.username: a.password for a in users.seed_demo_users(must_change_password=False)}
            users.change_password(users.authenticate("office", accounts["office"]).id, accounts["office"],
                                  "a much better passphrase")
            users.create_user("zhang_san", "张三", "a much better passphrase", ["monitor"], check_strength=False)
            _db.session.remove()
            downgrade(revision="0009")
            upgrade()
            flags = _flags()
        # the accounts the seed made before 0010 (the ones added since are marked by the seed itself)
        before = {name: name in DEMO_ACCOUNTS for name in accounts}
        assert flags == {**before, "office": False, "zhang_san": False}
        assert sum(before.values()) == 15
    finally:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()
        drop()
