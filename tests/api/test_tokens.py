"""Tokens: issued on the admin page and by `yuqing create-token`, shown once, stored hashed, with
scopes, roles, a unit, an expiry and a rate; each one a service user that cannot log in."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models import ApiToken, AuditEvent
from app.operations import api_tokens
from app.operations.errors import Invalid
from tests.conftest import login


def _issued(page: str) -> str:
    return re.search(r'data-testid="issued-token">[^<]*<code>([^<]+)</code>', page).group(1)


def test_an_admin_issues_a_token_with_scopes_roles_unit_expiry_and_rate(client, db, user_factory, fake_clock):
    login(client, user_factory(["admin"]))
    form = {"name": "社保科脚本", "scopes": ["tasks:read", "tasks:work"], "roles": ["section_head"],
            "unit_code": "social_insurance", "expires_on": "2026-12-31", "rate_per_minute": "30"}
    page = client.post("/admin/api-tokens", data=form).get_data(as_text=True)
    clear = _issued(page)
    row = db.session.scalars(select(ApiToken).where(ApiToken.name == "社保科脚本")).one()
    assert clear.startswith("yqt_") and row.token_hash == api_tokens.hash_token(clear) and clear not in page[:200]
    assert row.scopes == ["tasks:read", "tasks:work"] and row.unit_code == "social_insurance"
    assert row.rate_per_minute == 30 and row.expires_at.isoformat() == "2026-12-31T16:00:00+00:00"
    assert row.user.role_codes == {"section_head"} and row.user.unit.code == "social_insurance"
    listing = client.get("/admin/api-tokens").get_data(as_text=True)
    assert clear not in listing and "查看任务" in listing and "社会保险科" in listing and "承办科室负责人" in listing
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {clear}"}).status_code == 200
    assert client.get("/api/v1/processes", headers={"Authorization": f"Bearer {clear}"}).status_code == 403


@pytest.mark.parametrize(("change", "field"), [
    ({"scopes": []}, "scopes"), ({"scopes": ["tasks:fly"]}, "scopes"), ({"expires_on": "2020-01-01"}, "expires_on"),
    ({"expires_on": "2026-02-30"}, "expires_on"), ({"rate_per_minute": "lots"}, "rate_per_minute"),
    ({"rate_per_minute": "0"}, "rate_per_minute"), ({"roles": ["admin"], "unit_code": "employment"}, "roles"),
    ({"unit_code": "nowhere"}, "unit_code"), ({"name": ""}, "name"),
])
def test_the_token_form_says_what_is_wrong_next_to_the_field_and_keeps_the_input(client, db, user_factory, change,
                                                                                 field):
    login(client, user_factory(["admin"]))
    form = {"name": "某系统", "scopes": ["incidents:read"], "rate_per_minute": "60", **change}
    response = client.post("/admin/api-tokens", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'class="field__error"' in page
    # the message stands in the block of that field, which keeps what was typed
    block = re.search(rf'field--error"?[^>]*>((?:(?!</div>|</fieldset>).)*name="{field}"(?:(?!</div>|</fieldset>).)*)',
                      page, re.DOTALL)
    assert block and 'class="field__error"' in block.group(1), page[-3000:]
    assert db.session.scalars(select(ApiToken)).all() == []
    if field == "name":
        assert 'value="某系统"' not in page
    else:
        assert 'value="某系统"' in page


def test_only_admins_reach_the_token_page(client, db, user_factory):
    login(client, user_factory(["office_director"]))
    assert client.get("/admin/api-tokens").status_code == 404


def test_create_token_prints_it_once_and_keeps_the_hash(app, db):
    result = app.test_cli_runner().invoke(args=["create-token", "台账脚本", "--scopes", "incidents:read",
                                                "--roles", "office_staff", "--rate", "10"])
    assert result.exit_code == 0, result.output
    clear = result.output.strip()
    row = db.session.scalars(select(ApiToken).where(ApiToken.name == "台账脚本")).one()
    assert row.token_hash == api_tokens.hash_token(clear) and row.rate_per_minute == 10
    assert row.user.role_codes == {"office_staff"}
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token_issued")).all()
    assert audit[-1].detail["name"] == "台账脚本" and clear not in str(audit[-1].detail)
    refused = app.test_cli_runner().invoke(args=["create-token", "x", "--scopes", "nothing:else"])
    assert refused.exit_code != 0 and "nothing:else" in refused.output
    bad_day = app.test_cli_runner().invoke(args=["create-token", "y", "--scopes", "tasks:read", "--expires", "soon"])
    assert bad_day.exit_code != 0 and "--expires" in bad_day.output


def test_the_service_user_cannot_log_in_and_revocation_ends_it(client, db, user_factory):
    row, clear = api_tokens.issue_token("平台甲", None, scopes=["processes:read"], roles=["monitor"])
    response = client.post("/login", data={"username": row.user.username, "password": api_tokens.UNUSABLE_PASSWORD})
    assert response.status_code != 302
    api_tokens.revoke_token(row.id, user_factory(["admin"]))
    assert row.user.active is False
    assert client.get("/api/v1/processes", headers={"Authorization": f"Bearer {clear}"}).status_code == 401


def test_names_are_unique_and_overview_roles_cannot_be_narrowed_to_a_unit(db):
    api_tokens.issue_token("平台乙", None, scopes=["alerts:write"])
    with pytest.raises(Invalid) as same:
        api_tokens.issue_token("平台乙", None, scopes=["alerts:write"])
    assert "name" in same.value.errors
    with pytest.raises(Invalid) as wide:
        api_tokens.issue_token("平台丙", None, scopes=["incidents:read"], roles=["office_director"],
                               unit_code="employment")
    assert "roles" in wide.value.errors


def test_a_service_user_is_no_person_it_gets_no_messages_and_is_in_no_picker(db, user_factory):
    from app.models import Notification  # noqa: PLC0415
    from app.operations import alerts, interventions, options, visibility  # noqa: PLC0415

    person = user_factory(["office_director"])
    row, _clear = api_tokens.issue_token("办公室脚本", None, scopes=["tasks:read"], roles=["office_director"])
    assert row.user not in interventions.assignable_users() and person in interventions.assignable_users()
    picked = options.options_for(["users:office_director"])["users:office_director"]
    assert person.username in [username for username, _name in picked]
    assert row.user.username not in [username for username, _name in picked]
    with db.session.begin_nested():
        alerts.alert_admins(db.session, "test", "标题", "正文", "/", roles=("office_director",))
        db.session.flush()
        recipients = {n.user_id for n in db.session.scalars(select(Notification).where(Notification.kind == "test"))}
    assert recipients == {person.id}
    # a lane held only by a token's service user is unstaffed
    api_tokens.issue_token("风险脚本", None, scopes=["tasks:read"], roles=["risk_owner"], unit_code="employment")
    assert visibility.has_candidates(db.session, ["risk_owner"], "employment") is False
