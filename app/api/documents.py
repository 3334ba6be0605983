"""An incident's generated documents (文书: 快报, external report, 通稿, case file): the stored versions, one
version's .docx, and generating a new version — through the operations and permissions of the pages
(app/web/documents.py): an incident the caller may not see does not exist for it."""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from flask_babel import gettext as _
from marshmallow import RAISE

from app.api.auth import caller, scope
from app.api.common import blueprint, documented_errors, link, links
from app.api.schemas import DocumentList, DocumentQuery, DocumentVersion
from app.models import GeneratedDocument
from app.operations import documents
from app.operations.downloads import download_headers
from app.operations.errors import Forbidden, NotFound

bp = blueprint("api_documents", "Documents 文书", "Documents generated for an incident (quick report, press "
               "release, case file): .docx, every generation kept as a new version")
KIND_PARAMETER = {"in": "path", "name": "kind", "required": True,
                  "schema": {"type": "string", "enum": list(documents.INCIDENT_KINDS)},
                  "description": "quick_report (快报), external_report (外部报告, Ⅰ and Ⅱ only), release (通稿), "
                                 "case_file (事后总结)"}
BINARY = {"description": "the version's .docx, as an attachment (the page's download headers)",
          "content": {documents.DOCX: {"schema": {"type": "string", "format": "binary"}}}}


def _kind(kind: str) -> str:
    if kind not in documents.INCIDENT_KINDS:
        raise NotFound(_("没有这种文书(可用:%(kinds)s)。", kinds=", ".join(documents.INCIDENT_KINDS)))
    return kind


def _version_json(row: GeneratedDocument, created_by: str | None) -> dict[str, Any]:
    return {"id": row.public_id, "kind": row.kind, "label": documents.kind_label(row.kind), "version": row.version,
            "filename": row.filename, "created_at": row.created_at, "created_by": created_by, "size": row.size,
            "download_url": url_for("api_documents.download_document", number=row.subject, kind=row.kind,
                                    version=row.version)}


@bp.route("/incidents/<string(maxlength=32):number>/documents", methods=["GET"])
@scope("documents:read")
@bp.response(200, DocumentList)
@links(bp, ("200",), DownloadDocument=link("/incidents/{number}/documents/{kind}", "get",
                                           number="$response.body#/incident_number",
                                           kind="$response.body#/kinds/0/kind"))
@documented_errors(bp, 404)
def list_incident_documents(number: str) -> dict[str, Any]:
    """The stored documents of an incident by kind, newest version first (no bytes)."""
    user = caller().user
    incident = documents.readable_incident(number, user)
    stored = documents.list_documents(incident)
    offered = documents.offered_kinds(incident)
    return {"incident_number": incident.number, "may_generate": documents.may_generate(user, incident),
            "kinds": [{"kind": kind, "label": documents.kind_label(kind),
                       "versions": [_version_json(row, name) for row, name in stored[kind]]}
                      for kind in documents.readable_kinds(user) if kind in offered or stored[kind]]}


@bp.route("/incidents/<string(maxlength=32):number>/documents/<string(maxlength=32):kind>", methods=["GET"],
          parameters=[KIND_PARAMETER])
@scope("documents:read")
@bp.arguments(DocumentQuery, location="query", as_kwargs=True, unknown=RAISE)
@bp.doc(responses={"200": BINARY})
@documented_errors(bp, 404)
def download_document(number: str, kind: str, version: int | None = None) -> Response:
    """The latest version's .docx (`version` for an older one); 404 when none was generated."""
    user = caller().user
    incident = documents.readable_incident(number, user)
    versions = documents.list_documents(incident, (_kind(kind),))[kind]
    row = next((row for row, _name in versions if version is None or row.version == version), None)
    if row is None:
        raise NotFound(_("该事件尚未生成%(kind)s。", kind=documents.kind_label(kind)) if version is None
                       else _("没有%(kind)s的第 %(version)s 版。", kind=documents.kind_label(kind), version=version))
    document = documents.open_document(row.public_id, user)
    response = Response(document.content)
    response.headers.update(download_headers(document.filename, document.content_type, document.ascii_name))
    return response


@bp.route("/incidents/<string(maxlength=32):number>/documents/<string(maxlength=32):kind>", methods=["POST"],
          parameters=[KIND_PARAMETER])
@scope("documents:write")
@bp.response(201, DocumentVersion)
@links(bp, ("201",), DownloadDocument=link("/incidents/{number}/documents/{kind}", "get",
                                           number="$request.path.number", kind="$response.body#/kind",
                                           version="$response.body#/version"))
@documented_errors(bp, 404)
def generate_document(number: str, kind: str) -> dict[str, Any]:
    """Generate the document from the incident's ledger as its next version (as 生成 / 重新生成 on the pages);
    403 for callers who may read but not generate it, 422 with the missing fact when one is missing."""
    user = caller().user
    incident = documents.readable_incident(number, user)
    if not documents.may_generate(user, incident, _kind(kind)):
        raise Forbidden(_("您可以查看和下载该事件的文书,生成由办公室或办理相关任务的同事进行。"))
    row = documents.generate_document(kind, incident.number, user)
    return _version_json(row, user.display_name)
