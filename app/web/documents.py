"""Generated documents (文书): generate or regenerate one for an incident or a month, download a stored version."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.operations import documents
from app.operations.errors import Invalid
from app.web.security import download_headers

bp = Blueprint("documents", __name__)


def _back(number: str) -> str:
    """Where to return: the task page the request came from (its public id), else the incident's page."""
    task = request.form.get("task", "")
    if task and task.replace("-", "").isalnum() and len(task) <= 36:
        return url_for("tasks.task", public_id=task, _anchor="documents")
    return url_for("incidents.detail", number=number, _anchor="documents")


@bp.route("/ledger/<number>/documents", methods=["POST"])
@login_required
def generate(number: str) -> Response:
    """Generate (or regenerate, as a new version) one document of the incident."""
    kind = request.form.get("kind", "")
    if kind not in documents.INCIDENT_KINDS:
        abort(404)
    try:
        row = documents.generate_document(kind, number[:32], current_user)
    except Invalid as exc:
        flash(exc.message, "error")
    else:
        flash(_("已生成%(name)s(第 %(version)s 版)。", name=documents.kind_label(kind), version=row.version),
              "success")
    return redirect(_back(number[:32]))


@bp.route("/ledger/monthly-report", methods=["POST"])
@login_required
def generate_monthly() -> Response:
    """Generate the monthly analysis report of the chosen month (the ledger's readers only)."""
    month = (request.form.get("month") or "")[:7]
    try:
        row = documents.generate_monthly(month, current_user)
    except Invalid as exc:
        flash(exc.message, "error")
    else:
        flash(_("已生成 %(month)s 月度分析研判报告(第 %(version)s 版)。", month=documents.month_label(row.subject),
                version=row.version), "success")
    task = request.form.get("task", "")
    if task and task.replace("-", "").isalnum() and len(task) <= 36:
        return redirect(url_for("tasks.task", public_id=task, _anchor="monthly"))
    return redirect(url_for("ledger.index", _anchor="monthly"))


@bp.route("/documents/<public_id>/attach", methods=["POST"])
@login_required
def attach(public_id: str) -> Response:
    """Attach a stored document to the task it is sent with (e.g. the 快报 to the external report's materials)."""
    task = (request.form.get("task") or "")[:36]
    try:
        ref = documents.attach_document(public_id, task, current_user)
    except Invalid as exc:
        flash(exc.message, "error")
    else:
        flash(_("已将%(name)s附到本任务的报送材料。", name=ref["name"]), "success")
    return redirect(url_for("tasks.task", public_id=task, _anchor="documents"))


@bp.route("/documents/<public_id>")
@login_required
def download(public_id: str) -> Response:
    """A stored document version, always as a download, to people who may see its incident."""
    document = documents.open_document(public_id, current_user)
    response = Response(document.content)
    response.headers.update(download_headers(document.filename, document.content_type, document.ascii_name))
    return response


@bp.app_template_global()
def incident_documents(incident: object, kinds: tuple[str, ...] = documents.INCIDENT_KINDS) -> dict[str, object]:
    """What the 文书 block of a page lists: the kinds the incident's plan has, and any other kind already
    generated (a report made before a downgrade stays to download), with their stored versions."""
    kinds = documents.readable_kinds(current_user, kinds)
    stored = documents.list_documents(incident, kinds)  # type: ignore[arg-type]
    offered = documents.offered_kinds(incident, kinds)  # type: ignore[arg-type]
    return {"kinds": [(kind, documents.kind_label(kind), stored[kind]) for kind in kinds
                      if kind in offered or stored[kind]]}


@bp.app_template_global()
def may_generate_documents(incident: object, kind: str | None = None) -> bool:
    """Whether the 文书 block offers 生成 / 重新生成 to the reader (see documents.may_generate): only kinds the
    incident's plan has."""
    if kind is not None and kind not in documents.offered_kinds(incident, (kind,)):  # type: ignore[arg-type]
        return False
    return documents.may_generate(current_user, incident, kind)  # type: ignore[arg-type]


@bp.app_template_global()
def monthly_documents(month: str | None = None) -> list[object]:
    """The stored monthly analysis reports (of `month` only, if given) with who generated them."""
    return documents.list_monthly(month)  # type: ignore[return-value]


@bp.app_template_global()
def monthly_task_month(task: object) -> str | None:
    """The month ('2026-11') a monthly-analysis task is about, for the report it drafts, approves or files;
    None on other tasks and for people who do not read the whole ledger (the report lists every incident)."""
    if getattr(task, "spec_id", "") not in documents.MONTHLY_TASKS or not documents.may_read_monthly(current_user):
        return None
    period = str((getattr(task, "context", None) or {}).get("period_from") or "")
    return period[:7] if len(period) >= 7 and period[4] == "-" else None


@bp.app_template_global()
def task_attaches_documents(task: object) -> bool:
    """Whether the task sends its documents on in a file field (then the 文书 block offers to attach them)."""
    return getattr(task, "spec_id", "") in documents.ATTACH_FIELDS and getattr(task, "status", "") == "open"


@bp.app_template_global()
def task_documents(task: object) -> tuple[str, ...]:
    """The document kinds a task page offers (the 快报 on the tasks that send it on), or none."""
    return documents.TASK_DOCUMENTS.get(getattr(task, "spec_id", ""), ())
