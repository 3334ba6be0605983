"""The monthly analysis report (月度分析研判报告) through the API: the stored versions, one month's .docx,
and generating a month's next version — the ledger page's operations and permissions (app/web/documents.py):
it lists every incident of the month, so only the roles that read the whole ledger get it; for others a
month's report does not exist (404) and the list is refused (403)."""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for
from flask_babel import gettext as _
from marshmallow import RAISE

from app.api.auth import caller, scope
from app.api.common import blueprint, documented_errors, link, links
from app.api.schemas import DocumentQuery, MonthlyList, MonthlyVersion
from app.models import GeneratedDocument
from app.operations import documents
from app.operations.downloads import download_headers
from app.operations.errors import Forbidden, Invalid, NotFound

bp = blueprint("api_reports", "Monthly report 月度报告", "The monthly analysis report (月度分析研判报告) of the "
               "ledger: .docx, every generation kept as a new version")
MONTH = "/reports/monthly/<string(length=7):month>"
MONTH_PARAMETER = {"in": "path", "name": "month", "required": True, "description": "the month, e.g. 2026-11",
                   "schema": {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"}}
BINARY = {"description": "the version's .docx, as an attachment (the page's download headers)",
          "content": {documents.DOCX: {"schema": {"type": "string", "format": "binary"}}}}
DOWNLOAD = "/reports/monthly/{month}"


def _version_json(row: GeneratedDocument, created_by: str | None) -> dict[str, Any]:
    return {"id": row.public_id, "month": row.subject, "kind": row.kind, "label": documents.kind_label(row.kind),
            "version": row.version, "filename": row.filename, "created_at": row.created_at,
            "created_by": created_by, "size": row.size,
            "download_url": url_for("api_reports.download_monthly", month=row.subject, version=row.version)}


def _reader() -> Any:
    user = caller().user
    if not documents.may_read_monthly(user):
        raise NotFound(_("没有这种文书。"))
    return user


@bp.route("/reports/monthly", methods=["GET"])
@scope("reports:read")
@bp.response(200, MonthlyList)
@links(bp, ("200",), DownloadReport=link(DOWNLOAD, "get", month="$response.body#/items/0/month"))
@documented_errors(bp)
def list_monthly() -> dict[str, Any]:
    """The stored monthly reports, newest month and version first (the last 24; no bytes)."""
    if not documents.may_read_monthly(caller().user):
        raise Forbidden(_("月度分析研判报告列出当月全部事件,只有能查看整个舆情台账的角色可以查看。"))
    return {"items": [_version_json(row, name) for row, name in documents.list_monthly()]}


@bp.route(MONTH, methods=["GET"], parameters=[MONTH_PARAMETER])
@scope("reports:read")
@bp.arguments(DocumentQuery, location="query", as_kwargs=True, unknown=RAISE)
@bp.doc(responses={"200": BINARY})
@documented_errors(bp, 404)
def download_monthly(month: str, version: int | None = None) -> Response:
    """The month's latest report as .docx (`version` for an older one); 404 when none was generated."""
    user = _reader()
    documents.month_period(month)  # 422 for what is no month
    row = next((row for row, _name in documents.list_monthly(month)
                if row.subject == month and (version is None or row.version == version)), None)
    if row is None:
        raise NotFound(_("%(month)s 尚未生成月度分析研判报告。", month=month) if version is None
                       else _("没有 %(month)s 月度分析研判报告的第 %(version)s 版。", month=month, version=version))
    document = documents.open_document(row.public_id, user)
    response = Response(document.content)
    response.headers.update(download_headers(document.filename, document.content_type, document.ascii_name))
    return response


@bp.route(MONTH, methods=["POST"], parameters=[MONTH_PARAMETER])
@scope("reports:write")
@bp.response(201, MonthlyVersion)
@links(bp, ("201",), DownloadReport=link(DOWNLOAD, "get", month="$response.body#/month",
                                         version="$response.body#/version"))
@documented_errors(bp, 404)
def generate_monthly(month: str) -> dict[str, Any]:
    """Generate the month's report from the ledger's statistics as its next version (生成 on the ledger page);
    422 for what is no month, or naming a missing fact."""
    user = _reader()
    if request.get_data(cache=True) and request.get_json() not in ({}, None):
        raise Invalid(_("生成月度报告时不接收请求内容。"), {"": [_("生成月度报告时不接收请求内容。")]})
    row = documents.generate_monthly(month, user)
    return _version_json(row, user.display_name)
