"""Documents a process step generates by itself (decision 97): the 快报 when the quick report is
submitted, the 通稿 when it is published, the case file when the summary is approved and again when
the accountability results complete it.

The step's transaction writes only a job row naming its ledger line (the outbox, app/operations/jobs.py);
the worker then builds the document from the ledger and stores it with the incident as the next
version, in the name of the person who did the step (documents.generate_for_step). A fact the document
cannot do without is not a failure of the step: the worker records which one was missing, and the
office generates the document by hand once it is there.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import LedgerEntry
from app.operations import jobs

JOB_KIND = "document_for_step"
# ledger kind of the step → (document kind, the submitted value the step must carry, if any)
AUTO_STEPS: dict[str, tuple[str, tuple[str, str] | None]] = {
    "registered": ("quick_report", None),
    "release_published": ("release", None),
    "summary_review": ("case_file", ("summary_decision", "approve")),
    "accountability": ("case_file", None),
}


def step_recorded(session: Session, entry: LedgerEntry | None) -> None:
    """A completed task wrote `entry`: if its step makes a document, write the job that will (same transaction)."""
    rule = AUTO_STEPS.get(entry.kind) if entry is not None else None
    if entry is None or rule is None:
        return
    kind, needs = rule
    if needs is not None and (entry.data or {}).get(needs[0]) != needs[1]:
        return
    session.flush()  # the line's id names the job, so a redelivered job finds the document it made
    jobs.enqueue_new(session, JOB_KIND, [(f"{JOB_KIND}:{entry.id}", {"entry": entry.id, "kind": kind})])
