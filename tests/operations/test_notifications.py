"""Who a notify service task reaches: roles, the initiator, a lane's roles, a task's assignee."""

from __future__ import annotations

from sqlalchemy import select

from app.db import transaction
from app.engine.services import SideEffect
from app.models import Notification
from app.operations import notifications
from tests.processes.answers import REGISTER
from tests.processes.flow import Flow


def test_recipients_by_lane_and_by_assignee(db, user_factory):
    leader = user_factory(["group_leader"])
    bystander = user_factory(["spokesperson"])
    flow = Flow("yq_incident", incident=True)
    flow.do("ut_register", **REGISTER)
    effect = SideEffect(operator="notify", params={"template": "worsening",
                                                   "recipients": ["lane:领导小组", "assignee:ut_register"]},
                        task_spec="st_test", process_id="yq_incident", task_guid="test-guid")
    with transaction() as session:
        instance = session.merge(flow.instance)
        notifications.deliver(session, instance, effect)
    reached = set(db.session.scalars(select(Notification.user_id).where(Notification.dedup_key.like("%test-guid%"))))
    assert leader.id in reached and flow.user.id in reached  # the lane's role, and who registered
    assert bystander.id not in reached
