"""Organisation profiles: shipped city/county values, edits checked and audited, one active, read by diagrams."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import AuditEvent, OrgProfile
from app.operations import deploy, instances, options, profiles
from app.operations.errors import Invalid
from tests.conftest import make_user


def test_city_is_active_by_default_and_county_is_shipped(db):
    rows = {p.code: p for p in profiles.list_profiles()}
    assert set(rows) == {"city", "county"}
    assert rows["city"].active and not rows["county"].active
    assert profiles.active_values()["quick_report_to"] == ["市委办", "市政府办", "市委网信办"]
    assert rows["county"].values["false_info_owner"] == "party_group"


def test_shipped_values_pass_their_own_checks():
    assert profiles.check_values(profiles.CITY) == {}
    assert profiles.check_values(profiles.COUNTY) == {}


def test_an_edit_needs_a_reason_and_valid_values_and_is_audited(db):
    admin = make_user(["admin"])
    with pytest.raises(Invalid) as refused:
        profiles.update_profile("city", {**profiles.CITY, "org_name": "新名称"}, admin, "  ")
    assert "reason" in refused.value.errors
    with pytest.raises(Invalid) as refused:
        profiles.update_profile("city", {**profiles.CITY, "summary_due": "PT99999999999999H",
                                         "release_approval_l3": "anyone"}, admin, "调整")
    assert set(refused.value.errors) == {"summary_due", "release_approval_l3"}
    profiles.update_profile("city", {**profiles.CITY, "external_approvers": ["市委宣传部"]}, admin, "上级调整")
    assert profiles.active_values()["external_approvers"] == ["市委宣传部"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "profile_updated")).one()
    assert event.detail["changed"] == ["external_approvers"] and event.detail["reason"] == "上级调整"
    assert event.detail["before"] == {"external_approvers": ["市委宣传部", "市委网信办"]}


def test_exactly_one_profile_is_active(db):
    admin = make_user(["admin"])
    profiles.activate("county", admin)
    assert [p.code for p in db.session.scalars(select(OrgProfile).where(OrgProfile.active.is_(True)))] == ["county"]
    assert profiles.active_values()["org_name"] == "县民政局"


def test_profile_lists_are_form_choices_and_unknown_sources_are_refused_at_deploy(db):
    choices = options.options_for(["profile:external_report_to"])["profile:external_report_to"]
    assert ("市委网信办", "市委网信办") in choices
    english = options.options_for(["profile:external_report_to"], "en")["profile:external_report_to"]
    assert ("市委网信办", "Municipal cyberspace affairs office") in english  # the value stays Chinese
    assert options.source_problem("profile:org_name", set()) is not None  # a text value, not a list
    assert options.source_problem("profile:english_names", set()) is not None  # rows, not names to choose
    assert options.source_problem("users:nobody", {"monitor"}) is not None
    assert options.source_problem("users:monitor", {"monitor"}) is None
    form = (b'{"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "t", "type": "object", '
            b'"additionalProperties": false, "properties": {"x": {"title": "x", "type": "string", '
            b'"x-source": "secret_list"}}}')
    _loaded, problems = deploy.check_forms({"ut_x.schema.json": form}, {"monitor"})
    assert [p.reason for p in problems] == [
        "x-source 'secret_list' is not a known option list (org_units, open_incidents, users:<role>, profile:<"
        + "|".join(sorted(k for k, v in profiles.CITY.items() if isinstance(v, list) and k != "english_names"))
        + ">)"]


def test_a_changed_profile_applies_to_the_next_step_of_a_running_incident(db):
    """The report deadline of a new incident comes from the profile at the moment it starts."""
    admin = make_user(["admin", "monitor"])
    profiles.update_profile("city", {**profiles.CITY, "report_within": "PT20M"}, admin, "从严要求")
    instance = instances.start_incident(admin)
    assert instance.data["report_due_at"] == "2026-11-25T09:20:00+08:00"
