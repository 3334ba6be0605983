"""Tables. No Flask request code, no commit, no SpiffWorkflow.

Importing this package registers every model on the metadata (Alembic and tests need that).
"""

from app.models.admin import BatchOperation, InstanceMigration, SavedFilter
from app.models.audit import AuditEvent
from app.models.base import utcnow
from app.models.comments import IncidentComment
from app.models.documents import GeneratedDocument
from app.models.jobs import Job, JobStatus, WorkerLease
from app.models.ledger import Alert, ApiIdempotency, ApiToken, Attachment, Incident, LedgerEntry, OrgProfile
from app.models.notifications import (
    Notification,
    NotificationChannel,
    NotificationDelivery,
    NotificationPreference,
)
from app.models.processes import (
    Deployment,
    HumanTask,
    HumanTaskCandidate,
    InstanceStatus,
    InstanceUnit,
    ProcessDefinition,
    ProcessInstance,
    TaskStatus,
)
from app.models.settings import AppSetting, Counter
from app.models.studio import SandboxRun, WorkspaceFile
from app.models.users import Delegation, OrgUnit, Role, User, UserRole

__all__ = [
    "Alert",
    "ApiIdempotency",
    "ApiToken",
    "AppSetting",
    "Attachment",
    "AuditEvent",
    "BatchOperation",
    "Counter",
    "Delegation",
    "Deployment",
    "GeneratedDocument",
    "HumanTask",
    "HumanTaskCandidate",
    "Incident",
    "IncidentComment",
    "InstanceMigration",
    "InstanceStatus",
    "InstanceUnit",
    "Job",
    "JobStatus",
    "LedgerEntry",
    "Notification",
    "NotificationChannel",
    "NotificationDelivery",
    "NotificationPreference",
    "OrgProfile",
    "OrgUnit",
    "ProcessDefinition",
    "ProcessInstance",
    "Role",
    "SandboxRun",
    "SavedFilter",
    "TaskStatus",
    "User",
    "UserRole",
    "WorkerLease",
    "WorkspaceFile",
    "utcnow",
]
