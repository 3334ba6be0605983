"""The incident ledger (舆情台账): a filtered list, its statistics, one incident's record, CSV and XLSX exports."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required

from app import clock
from app.db import transaction
from app.models import AuditEvent
from app.operations import incident_page, labels, ledger_export, ledger_filter, ledger_page, ledger_reading, statistics
from app.operations.ledger_filter import LedgerFilter
from app.operations.vocabulary import INCIDENT_STATUSES
from app.web.inputs import int_arg

bp = Blueprint("ledger", __name__, url_prefix="/ledger")

LEDGER_ROLES = ("admin", "group_leader", "group_deputy", "office_director", "office_staff", "info_officer",
                "party_group")
PER_PAGE = 50


def _allowed() -> None:
    if not current_user.has_role(*LEDGER_ROLES):
        abort(404)


def _filter(args: Any) -> LedgerFilter:
    return ledger_filter.from_args(args)[0]


def _unreadable_period() -> Response | None:
    """An export asked for with a day that cannot be read goes back to the list, which says what to
    correct, rather than exporting every incident as if unfiltered (the list hides its export links then)."""
    if ledger_filter.date_errors(request.args):
        return redirect(url_for("ledger.index", **{k: v for k, v in request.args.items() if v}))
    return None


def _page_context(args: Any) -> dict[str, Any]:
    """What the list and the statistics page share: the filter form's choices, what was ignored, the query."""
    filters, notes = ledger_filter.from_args(args)
    return {"filters": filters, "notes": notes, "args": args, "date_errors": ledger_filter.date_errors(args),
            "query": {k: v for k, v in args.items() if k not in ("page", "trend") and v},
            "units": sorted(labels.unit_names(_locale()).items()), "statuses": INCIDENT_STATUSES,
            "platforms": labels.choice_pairs("platform", locale=_locale()),
            "sources": labels.choice_pairs("source_type", locale=_locale())}


def _locale() -> str:
    return str(get_locale() or "zh_CN")


@bp.route("/")
@login_required
def index() -> str:
    """The ledger, filtered by period, level, unit, platform, source, status, overdue and searched text."""
    _allowed()
    page = int_arg(request.args, "page", 1, high=100_000)
    context = _page_context(request.args)
    if context["date_errors"]:  # a period that cannot be read filters nothing: the form says what to correct
        return render_template("ledger/index.html", rows=[], total=None, page=1, pages=1, **context)
    rows, total = ledger_reading.list_incidents(context["filters"], page, PER_PAGE)
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    if page > pages:  # a page past the end (an old bookmark, a typed number) shows the last one
        page = pages
        rows, total = ledger_reading.list_incidents(context["filters"], page, PER_PAGE)
    return render_template("ledger/index.html", rows=rows, total=total, page=page, pages=pages, **context)


@bp.route("/statistics")
@login_required
def statistics_page() -> str:
    """Statistics of the filtered incidents: charts (drawn from the tables next to them) and the tables."""
    _allowed()
    context = _page_context(request.args)
    if context["date_errors"]:
        return render_template("ledger/statistics.html", stats=None, **context)
    trend = request.args.get("trend") if request.args.get("trend") in statistics.TREND_UNITS else None
    found = statistics.read(context["filters"], trend, _locale())
    return render_template("ledger/statistics.html", stats=found, charts=found.charts(), trend=trend,
                           max_points=statistics.MAX_TREND_POINTS, **context)


@bp.route("/export.csv")
@login_required
def export() -> Response:
    """The filtered ledger as CSV (UTF-8 with BOM for Excel); every export is audited."""
    _allowed()
    if (back := _unreadable_period()) is not None:
        return back
    filters = _filter(request.args)
    body = ledger_export.export_csv(filters)
    with transaction() as session:
        session.add(AuditEvent(actor_id=current_user.id, action="ledger_exported",
                               detail={k: v for k, v in request.args.items() if v}))
    stamp = clock.local(clock.now()).strftime("%Y%m%d-%H%M")
    disposition = f"attachment; filename=\"ledger-{stamp}.csv\"; filename*=UTF-8''{quote(f'舆情台账-{stamp}.csv')}"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": disposition})


@bp.route("/export.xlsx")
@login_required
def export_xlsx() -> Response:
    """The filtered ledger as an Excel workbook (same filters as the CSV), streamed; audited like the CSV."""
    _allowed()
    if (back := _unreadable_period()) is not None:
        return back
    body = ledger_export.export_xlsx(_filter(request.args))
    with transaction() as session:
        session.add(AuditEvent(actor_id=current_user.id, action="ledger_exported",
                               detail={"format": "xlsx", **{k: v for k, v in request.args.items() if v}}))
    stamp = clock.local(clock.now()).strftime("%Y%m%d-%H%M")
    disposition = f"attachment; filename=\"ledger-{stamp}.xlsx\"; filename*=UTF-8''{quote(f'舆情台账-{stamp}.xlsx')}"
    return Response(body, mimetype=ledger_export.XLSX,
                    headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"})


@bp.route("/<number>")
@login_required
def detail(number: str) -> str:
    """One incident's record for the ledger's readers: levels, deadlines, reports, releases, dispatched
    units, follow-up, aftermath and accountability, each line linked to the task that wrote it."""
    _allowed()
    record = ledger_page.record(number, current_user, _locale())
    return render_template("ledger/detail.html", record=record, incident=record.incident,
                           previewable=incident_page.previewable)
