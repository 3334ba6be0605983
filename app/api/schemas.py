"""Request and response bodies of the API (marshmallow): the OpenAPI document is generated from these.
Requests refuse unknown fields (marshmallow's RAISE)."""

from __future__ import annotations

from marshmallow import INCLUDE, RAISE, Schema, fields, validate

TEXT = validate.Length(max=2000)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class ProblemField(Schema):
    field = fields.String(required=True)
    messages = fields.List(fields.String(), required=True)


class Problem(Schema):
    """RFC 9457 problem details (extension members allowed: unknown addresses also carry `error`, `message`)."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.List(fields.Nested(ProblemField))


class Process(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    version = fields.Integer(required=True)
    latest = fields.Boolean(required=True)
    deployed_at = fields.DateTime(required=True)
    startable = fields.Boolean(required=True, metadata={"description": "the caller may start it"})
    start_form = fields.Dict(allow_none=True, required=True,
                             metadata={"description": "JSON Schema of the start data; null: it takes none"})


class StartBody(Strict):
    data = fields.Dict(metadata={"description": "start data by field name, checked against the process's start "
                                                "form (`start_form` of GET /processes): a lead's fields for "
                                                "yq_incident; processes without a start form take none"})


class ProcessList(Schema):
    items = fields.List(fields.Nested(Process), required=True)


class Instance(Schema):
    id = fields.String(required=True)
    process = fields.String(required=True)
    version = fields.Integer(required=True)
    title = fields.String(allow_none=True)
    incident_number = fields.String(allow_none=True)
    level = fields.Integer(allow_none=True)
    level_label = fields.String(allow_none=True)
    status = fields.String(required=True)
    status_label = fields.String(required=True)
    started_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(allow_none=True)
    revision = fields.Integer(required=True, metadata={"description": "row version; send it back as `expected`"})


class InstancePage(Schema):
    items = fields.List(fields.Nested(Instance), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
    total = fields.Integer(required=True)


class InstanceQuery(Strict):
    process = fields.String(validate=validate.Length(max=100))
    version = fields.Integer(validate=validate.Range(1, 1_000_000))
    status = fields.String(validate=validate.OneOf(
        ["running", "waiting", "suspended", "completed", "terminated", "withdrawn", "error"]))
    level = fields.Integer(validate=validate.Range(1, 4))
    overdue = fields.Boolean()
    started_from = fields.Date()
    started_to = fields.Date()
    text = fields.String(validate=validate.Length(max=100))
    cursor = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,200}$"))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class Intervention(Strict):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    expected = fields.Integer(allow_none=True, validate=validate.Range(1, 2**31 - 1),
                              metadata={"description": "the revision the caller saw; refused (409) if it moved"})


class Task(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    instance_id = fields.String(required=True)
    process = fields.String(required=True)
    element = fields.String(required=True)
    status = fields.String(required=True)
    assignee = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    incident_number = fields.String(allow_none=True)


class StartedInstance(Instance):
    next_task = fields.Nested(Task, allow_none=True, required=True,
                              metadata={"description": "the caller's first task in it, as the page opens it"})


class TaskDetail(Task):
    form_schema = fields.Dict(required=True, metadata={"description": "the form's JSON Schema"})
    ui_schema = fields.Dict(required=True, metadata={"description": "layout and widget hints"})
    context = fields.Dict(required=True, metadata={"description": "process data shown above the form"})
    draft = fields.Dict(allow_none=True, metadata={"description": "what was saved so far"})
    can_work = fields.Boolean(required=True)


class TaskPage(Schema):
    items = fields.List(fields.Nested(Task), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class TaskQuery(Strict):
    scope = fields.String(load_default="open", validate=validate.OneOf(["mine", "groups", "open"]),
                          metadata={"description": "mine: claimed by me; groups: my roles' open tasks; "
                                                   "open: every open task I may see"})
    process = fields.String(validate=validate.Length(max=100))
    instance = fields.String(validate=validate.Length(max=36),
                             metadata={"description": "only the tasks of this instance (its id)"})
    overdue = fields.Boolean()
    cursor = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,200}$"))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class Completion(Strict):
    data = fields.Dict(required=True, metadata={"description": "the form's fields by name"})


class Completed(Schema):
    task = fields.Nested(Task, required=True)
    next_task = fields.Nested(Task, allow_none=True, required=True)


class Metrics(Strict):
    views = fields.Integer(validate=validate.Range(0, 10**12))
    reposts = fields.Integer(validate=validate.Range(0, 10**12))
    comments = fields.Integer(validate=validate.Range(0, 10**12))
    likes = fields.Integer(validate=validate.Range(0, 10**12))


class UpdateContent(Strict):
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    title = fields.String(validate=validate.Length(max=300))
    url = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=2000))
    snippet = fields.String(validate=validate.Length(max=5000))
    observed_at = fields.AwareDateTime()
    metrics = fields.Nested(Metrics)


class MessageBody(Strict):
    incident_number = fields.String(validate=validate.Regexp(r"^YQ-\d{4}-\d{4,6}$"),
                                    metadata={"example": "YQ-2026-0001"})
    external_ref = fields.String(validate=validate.Length(min=1, max=200),
                                 metadata={"description": "the external_ref of a lead this token sent"})
    content = fields.Nested(UpdateContent, required=True)


class MessageResult(Schema):
    incident_number = fields.String(required=True)
    delivered = fields.Boolean(required=True, metadata={"description": "a step of the incident was waiting for it"})


class LedgerLine(Schema):
    at = fields.DateTime(required=True)
    kind = fields.String(required=True)
    label = fields.String(required=True)
    summary = fields.String(required=True)
    actor = fields.String(allow_none=True)


class Incident(Schema):
    number = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    status_label = fields.String(required=True)
    level = fields.Integer(allow_none=True)
    level_label = fields.String(allow_none=True)
    source_type = fields.String(allow_none=True)
    source_label = fields.String(required=True)
    platform = fields.String(allow_none=True)
    platform_label = fields.String(required=True)
    lead_unit = fields.String(allow_none=True)
    lead_unit_label = fields.String(required=True)
    overdue = fields.Boolean(required=True)
    discovered_at = fields.DateTime(allow_none=True)
    reported_at = fields.DateTime(allow_none=True)
    first_release_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    instance_id = fields.String(allow_none=True)


class IncidentDetail(Incident):
    entries = fields.List(fields.Nested(LedgerLine), required=True)


class IncidentPage(Schema):
    items = fields.List(fields.Nested(Incident), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
    total = fields.Integer(required=True)


class IncidentQuery(Strict):
    text = fields.String(validate=validate.Length(max=100))
    level = fields.Integer(validate=validate.Range(1, 4))
    status = fields.String(validate=validate.Length(max=16))
    unit = fields.String(validate=validate.Length(max=64))
    platform = fields.String(validate=validate.Length(max=64))
    source = fields.String(validate=validate.Length(max=32))
    overdue = fields.Boolean()
    since = fields.Date()
    until = fields.Date()
    cursor = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,200}$"))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class DocumentVersion(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    label = fields.String(required=True)
    version = fields.Integer(required=True)
    filename = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    created_by = fields.String(allow_none=True, required=True, metadata={"description": "who generated it"})
    size = fields.Integer(required=True, metadata={"description": "bytes"})
    download_url = fields.String(required=True)


class DocumentKind(Schema):
    kind = fields.String(required=True)
    label = fields.String(required=True)
    versions = fields.List(fields.Nested(DocumentVersion), required=True,
                           metadata={"description": "newest first; empty when none was generated"})


class DocumentList(Schema):
    incident_number = fields.String(required=True)
    may_generate = fields.Boolean(required=True, metadata={"description": "the caller may generate them"})
    kinds = fields.List(fields.Nested(DocumentKind), required=True)


class DocumentQuery(Strict):
    version = fields.Integer(validate=validate.Range(1, 100_000),
                             metadata={"description": "an older version; the latest without it"})


class MonthlyVersion(DocumentVersion):
    month = fields.String(required=True, metadata={"example": "2026-11"})


class MonthlyList(Schema):
    items = fields.List(fields.Nested(MonthlyVersion), required=True,
                        metadata={"description": "newest month and version first"})
