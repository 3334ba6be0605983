"""Drive a process through the real operations and engine, as whoever holds every role (optionally in a
unit, e.g. the lead unit of the shared answers, so that unit's scoped tasks are theirs too)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, HumanTask, Incident, LedgerEntry, Notification, ProcessInstance, TaskStatus
from app.operations import instances, tasks, timer_firing
from app.operations.vocabulary import ROLES
from tests.conftest import make_user
from tests.processes.answers import (
    CONSULT,
    DRAFT,
    EXTERNAL_APPROVAL,
    INVESTIGATE,
    PUBLISH,
    REQUEST,
    SUPERIOR_MEASURES,
)


class Flow:
    """One instance of a process, worked task by task."""

    def __init__(self, process_key: str, data: dict[str, Any] | None = None, *, incident: bool = False,
                 unit: str | None = None):
        self.user = make_user([code for code, _zh, _en in ROLES], unit=unit)
        if incident:
            self.instance = instances.start_incident(self.user)
        else:
            self.instance = instances.start_instance(process_key, self.user, data or {})

    def open(self) -> list[str]:
        """Spec ids of the open tasks, sorted."""
        return sorted(t.spec_id for t in self._open_rows())

    def task(self, spec_id: str) -> HumanTask:
        rows = [t for t in self._open_rows() if t.spec_id == spec_id]
        assert len(rows) == 1, f"{spec_id} not open; open: {self.open()}"
        return rows[0]

    def do(self, spec_id: str, **data: Any) -> ProcessInstance:
        """Complete the open task `spec_id` with `data` (already typed, as the form would give it)."""
        tasks.complete_task(self.task(spec_id).public_id, data, self.user)
        db.session.refresh(self.instance)
        return self.instance

    def respond_and_publish(self, consult: dict[str, Any] | None = None) -> None:
        """From the level-4 request for instruction to a published response (every step approved)."""
        self.do("ut_request_instruction", **REQUEST)
        self.do("ut_instruction_decision", decision="approve")
        self.investigate_and_publish(consult)

    def investigate_and_publish(self, consult: dict[str, Any] | None = None) -> None:
        """Investigation and consultation, then the release drafted, approved (either mode) and published."""
        self.do("ut_investigate", **INVESTIGATE)
        self.do("ut_consult", **(consult or CONSULT))
        if "ut_record_superior_measures" in self.open():
            self.do("ut_record_superior_measures", **SUPERIOR_MEASURES)
        self.do("ut_draft_release", **{**DRAFT, "spokesperson": self.user.username})
        if "ut_record_external_approval" in self.open():
            self.do("ut_record_external_approval", **EXTERNAL_APPROVAL)
            self.do("ut_sign_release", release_decision="approve")
        else:
            self.do("ut_approve_release", release_decision="approve")
        self.do("ut_publish_response", **PUBLISH)

    def fire_timers(self) -> int:
        fired = timer_firing.fire_due_timers()
        db.session.refresh(self.instance)
        return fired

    def notifications(self) -> list[str]:
        return list(db.session.scalars(select(Notification.kind).where(
            Notification.instance_id == self.instance.id).order_by(Notification.id)).all())

    def notified(self, kind: str) -> set[int]:
        """Who got a notification of this kind from the instance."""
        return set(db.session.scalars(select(Notification.user_id).where(
            Notification.instance_id == self.instance.id, Notification.kind == kind)))

    def ledger(self) -> list[tuple[str, dict[str, Any]]]:
        """(kind, data) of the ledger entries of this instance's incident, oldest first.

        A sub-process started on its own has an incident when its start data holds an `incident_no`
        such as "YQ-2026-9001".
        """
        return [(entry.kind, entry.data) for entry in db.session.scalars(
            select(LedgerEntry).join(Incident).where(Incident.instance_id == self.instance.id)
            .order_by(LedgerEntry.id))]

    def incident(self) -> Incident | None:
        return db.session.scalar(select(Incident).where(Incident.instance_id == self.instance.id))

    def actions(self) -> list[str]:
        return list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.instance_id == self.instance.id).order_by(AuditEvent.id)))

    def _open_rows(self) -> list[HumanTask]:
        return list(db.session.scalars(select(HumanTask).where(
            HumanTask.instance_id == self.instance.id, HumanTask.status == TaskStatus.OPEN)))
