"""The incident for staff (/incidents/<number>): facts, level history, deadlines, stages, open tasks,
files with image previews, and a print view for leaders who read on paper."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import clock
from app.operations import attachments, comments, incident_page, labels, ledger_reading
from app.operations.errors import Invalid
from app.web.filters import listed
from app.web.security import download_headers

bp = Blueprint("incidents", __name__)


def render_incident(number: str, draft: str = "", errors: dict[str, list[str]] | None = None) -> str:
    """The incident page (or its print view with `?print=1`) for someone who may open the incident."""
    incident = incident_page.get_visible_incident(number, current_user)
    locale = str(get_locale() or "zh_CN")
    lines = ledger_reading.entries_of(incident, locale)
    printing = request.args.get("print") == "1"
    facts = labels.incident_facts(incident, locale)
    facts["platform"] = labels.with_other_platform(facts["platform"], labels.registered_data(lines))
    return render_template(
        "incidents/print.html" if printing else "incidents/detail.html", incident=incident, entries=lines,
        comments=comments.thread(incident), draft=draft, errors=errors or {}, max_comment=comments.MAX_LENGTH,
        deadlines=incident_page.deadlines_of(incident, current_user, labels.unit_names(locale), locale),
        facts=facts,
        stages=incident_page.stages(incident, lines, keep=None if printing else incident_page.STAGE_LINES),
        levels=incident_page.level_history(lines, locale),
        tasks=incident_page.open_tasks(incident, current_user),
        files=incident_page.attachments_of(incident, current_user), previewable=incident_page.previewable,
        now=clock.now(), instance_id=ledger_reading.instance_public_id(incident))


@bp.route("/incidents/<number>")
@login_required
def detail(number: str) -> str:
    """One incident as the people working it read it; `?print=1` is the same for paper."""
    return render_incident(number)


@bp.route("/incidents/<number>/comments", methods=["POST"])
@login_required
def comment(number: str) -> Response | tuple[str, int]:
    """Add a comment (流转意见) to the incident's thread; @named colleagues are told."""
    text = request.form.get("body", "")[:comments.MAX_LENGTH * 2]
    try:
        posted = comments.add_comment(number, text, current_user,
                                      notify_reachable_only=request.form.get("notify_reachable_only") == "1")
    except Invalid as exc:
        if exc.errors.get("unreachable"):
            flash(_("意见未发表:%(names)s 无法收到提醒,原因和办法见“流转意见”。",
                    names=listed("@" + n for n in exc.errors["unreachable"])), "error")
        return render_incident(number, draft=text[:comments.MAX_LENGTH * 2], errors=exc.errors), 422
    flash(_("意见已发表。"), "success")
    if posted.told:
        flash(_("已通知:%(names)s。", names=listed(posted.told)), "success")
    if posted.not_told:
        flash(_("按您的选择,未提醒 %(names)s。", names=listed("@" + n for n in posted.not_told)), "success")
    return redirect(url_for("incidents.detail", number=number, _anchor=f"comment-{posted.comment.public_id}"))


@bp.route("/attachments/<public_id>/preview")
@login_required
def preview(public_id: str) -> Response:
    """A raster image attachment shown inline (thumbnails); sandboxed, never sniffed, not cached."""
    shown = attachments.open_preview(public_id, current_user)
    headers = download_headers(shown.filename, shown.content_type)
    headers["Content-Disposition"] = headers["Content-Disposition"].replace("attachment;", "inline;", 1)
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return Response(shown.content, headers=headers)
