"""yq_press_conference.bpmn: request a designated spokesperson (group leader or party group, by profile),
record the designation, prepare, record the conference; every task due at press_conf_due_at."""

from __future__ import annotations

from typing import Any

import pytest

from app.models import InstanceStatus
from app.operations import profiles
from app.operations.errors import Invalid
from tests.conftest import make_user
from tests.processes.flow import Flow

T0 = "2026-11-25T09:00:00+08:00"
START: dict[str, Any] = {"title": "某事件", "incident_no": "YQ-2026-9001", "confirmed_level": 1,
                         "is_sudden_event": True, "press_conf_due_at": "2026-11-26T09:00:00+08:00"}
DUE_UTC = "2026-11-26T01:00:00+00:00"
DESIGNATION = {"designated_person": "市政府新闻办 李主任", "designated_at": T0}
PREPARE = {"conference_at": "2026-11-25T15:00:00+08:00", "conference_format": "press_conference"}
RECORD = {"conference_at": "2026-11-25T15:00:00+08:00", "media_present": "市电视台、市日报",
          "conference_summary": "通报事件经过和处置措施,回答记者提问3个"}


def roles(flow: Flow, spec_id: str) -> set[str]:
    return set(flow.task(spec_id).candidate_roles_text.split(","))


def kinds(flow: Flow) -> list[str]:
    return [kind for kind, _data in flow.ledger()]


def test_city_profile_group_leader_requests_then_office_records_publicity_prepares_and_records(db, fake_clock):
    flow = Flow("yq_press_conference", START)
    assert flow.open() == ["ut_request_spokesperson"]
    assert roles(flow, "ut_request_spokesperson") == {"group_leader"}
    assert flow.task("ut_request_spokesperson").due_at.isoformat() == DUE_UTC
    flow.do("ut_request_spokesperson", requested_at=T0, requested_from="市委宣传部")

    assert flow.open() == ["ut_record_designation"]
    assert roles(flow, "ut_record_designation") == {"office_director", "office_staff"}
    designation = flow.task("ut_record_designation")
    assert designation.due_at.isoformat() == DUE_UTC
    assert designation.context["requested_from"] == "市委宣传部"
    flow.do("ut_record_designation", **DESIGNATION)

    assert flow.open() == ["ut_prepare_conference"]
    assert roles(flow, "ut_prepare_conference") == {"team_publicity"}
    prepare = flow.task("ut_prepare_conference")
    assert prepare.due_at.isoformat() == DUE_UTC
    assert prepare.context["designated_person"] == "市政府新闻办 李主任"
    flow.do("ut_prepare_conference", **PREPARE)

    assert flow.open() == ["ut_press_conference_record"]
    assert roles(flow, "ut_press_conference_record") == {"team_publicity", "office_director", "office_staff"}
    record = flow.task("ut_press_conference_record")
    assert record.due_at.isoformat() == DUE_UTC
    assert record.context["conference_at"] == "2026-11-25T15:00:00+08:00"  # prefills the actual time
    assert record.context["conference_format"] == "press_conference"
    fake_clock.advance(hours=7)  # 16:00, after the conference
    flow.do("ut_press_conference_record", **RECORD)

    assert flow.instance.status == InstanceStatus.COMPLETED
    assert kinds(flow) == ["press_conference_requested", "spokesperson_designated", "press_conference_prepared",
                           "press_conference"]
    ledger = dict(flow.ledger())
    assert ledger["press_conference_requested"] == {"requested_at": T0, "requested_from": "市委宣传部"}
    assert ledger["spokesperson_designated"] == DESIGNATION
    assert ledger["press_conference_prepared"] == PREPARE
    incident = flow.incident()
    assert incident.press_conf_at.isoformat() == "2026-11-25T07:00:00+00:00"
    assert incident.deadlines["press_conference"]["done_at"] == "2026-11-25T15:00:00+08:00"
    assert flow.notifications() == []


def test_a_rescheduled_conference_is_recorded_at_its_actual_time(db, fake_clock):
    flow = Flow("yq_press_conference", START)
    flow.do("ut_request_spokesperson", requested_at=T0, requested_from="市政府新闻办")
    flow.do("ut_record_designation", **DESIGNATION)
    flow.do("ut_prepare_conference", **PREPARE)
    fake_clock.advance(hours=10)
    flow.do("ut_press_conference_record", **{**RECORD, "conference_at": "2026-11-25T18:30:00+08:00"})
    assert flow.incident().press_conf_at.isoformat() == "2026-11-25T10:30:00+00:00"
    assert flow.instance.data["conference_at"] == "2026-11-25T18:30:00+08:00"


def test_county_profile_party_group_requests_from_the_county_designators(db):
    profiles.activate("county", make_user(["admin"]))
    flow = Flow("yq_press_conference", START)
    assert flow.open() == ["ut_request_spokesperson_party"]
    assert roles(flow, "ut_request_spokesperson_party") == {"party_group"}
    request = flow.task("ut_request_spokesperson_party")
    assert request.form == "ut_request_spokesperson.schema.json"
    assert request.due_at.isoformat() == DUE_UTC
    with pytest.raises(Invalid) as refused:  # the city's designator is not a choice of the county profile
        flow.do("ut_request_spokesperson_party", requested_at=T0, requested_from="市委宣传部")
    assert "requested_from" in refused.value.errors
    flow.do("ut_request_spokesperson_party", requested_at=T0, requested_from="县委宣传部")

    assert flow.open() == ["ut_record_designation"]
    flow.do("ut_record_designation", **DESIGNATION)
    flow.do("ut_prepare_conference", **{**PREPARE, "conference_at": T0, "conference_format": "online"})
    flow.do("ut_press_conference_record", **{**RECORD, "conference_at": T0})
    assert flow.instance.status == InstanceStatus.COMPLETED
    assert kinds(flow)[0] == "press_conference_requested"
    assert dict(flow.ledger())["press_conference_requested"]["requested_from"] == "县委宣传部"


def test_the_requester_follows_a_profile_edit(db):
    values = {**profiles.active_values(), "press_conference_requester": "party_group"}
    profiles.update_profile("city", values, make_user(["admin"]), "由局党组申请指定发布人")
    flow = Flow("yq_press_conference", START)
    assert flow.open() == ["ut_request_spokesperson_party"]


def test_the_record_needs_a_summary_and_a_time_that_has_passed(db):
    flow = Flow("yq_press_conference", START)
    flow.do("ut_request_spokesperson", requested_at=T0, requested_from="市委宣传部")
    flow.do("ut_record_designation", **DESIGNATION)
    flow.do("ut_prepare_conference", **PREPARE)
    with pytest.raises(Invalid) as missing:
        flow.do("ut_press_conference_record", conference_at=T0, media_present="市电视台")
    assert "conference_summary" in missing.value.errors
    with pytest.raises(Invalid) as future:  # 15:00 has not come yet (the clock says 09:00)
        flow.do("ut_press_conference_record", **RECORD)
    assert "conference_at" in future.value.errors
    assert flow.open() == ["ut_press_conference_record"]
    assert kinds(flow)[-1] == "press_conference_prepared"
