"""Migration 0011_api: a token issued before it keeps posting leads, now as a service user of its own."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from app.extensions import db as _db
from app.models import Alert, ApiToken
from app.operations import api_tokens
from tests.conftest import build_app


def test_a_token_issued_before_the_migration_still_posts_leads(tmp_path):
    app, drop = build_app(tmp_path)
    try:
        with app.app_context():
            _db.session.remove()
            downgrade(revision="0010")
            clear = "yqt_legacy-token-of-a-platform"
            with _db.engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO api_token (name, token_hash, scopes, created_at) VALUES (:n, :h, :s, :c)"),
                    {"n": "老平台", "h": api_tokens.hash_token(clear), "s": '["alerts"]', "c": "2026-11-01 00:00:00"})
            upgrade()
            _db.session.remove()
            row = _db.session.scalars(select(ApiToken)).one()
            assert row.scopes == ["alerts:write"] and row.user.display_name == "接口:老平台"
            assert row.user.role_codes == set() and row.rate_per_minute == 120
        client = app.test_client()
        response = client.post("/api/v1/alerts", json={"source_type": "platform_alert", "title": "网传某窗口推诿"},
                               headers={"Authorization": f"Bearer {clear}"})
        assert response.status_code == 201, response.get_data(as_text=True)
        with app.app_context():
            assert _db.session.scalars(select(Alert.source)).one() == "老平台"
    finally:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()
        drop()
