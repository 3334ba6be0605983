"""Worklist, task pages (JSON Schema forms and their uploads), attachment downloads, starting a new incident."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, get_template_attribute, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from app import forms
from app.models import HumanTask, InstanceStatus, TaskStatus
from app.operations import (
    attachments,
    comments,
    completion,
    handover,
    instances,
    interventions,
    ledger_reading,
    notifications,
    starts,
    tasks,
    withdrawals,
)
from app.operations import worklist as worklist_ops
from app.operations.errors import Conflict, Invalid, OperationError
from app.web import worklist_rows
from app.web.filters import diagram_text, element_name, listed
from app.web.inputs import int_arg
from app.web.lead import lead_card
from app.web.security import download_headers

bp = Blueprint("tasks", __name__)
ADD_ROW = "add_row:"  # `_action` of a table's 添加一行 button, followed by the table's name


@bp.route("/")
@login_required
def index() -> Response:
    """The worklist is the home page."""
    return redirect(url_for("tasks.worklist"))


@bp.route("/tasks")
@login_required
def worklist() -> str:
    """待办 (mine first, then my groups' tasks, by due time), 我的, 组内 and 已办; only the shown tab's
    rows are read, the other tabs are counted."""
    f = worklist_ops.parse_filter(request.args)
    user = current_user._get_current_object()  # the operations read its roles often; not through the proxy
    try:
        page = worklist_ops.list_page(user, f, request.args.get("after"))
    except Invalid as exc:
        flash(exc.message, "error")
        page = worklist_ops.list_page(user, f)
    whole = not request.args.get("after") and page.next_cursor is None  # the shown tab fits on one page
    counted = [tab for tab in worklist_ops.TABS if not (whole and tab == f.tab)]
    # The header's badge, the unread messages and the deployed processes (the task filter's names) are
    # read in the same statement as the tabs' counts: one round trip.
    found = worklist_ops.counts(user, f, counted, badge=f.narrowed, also=_PAGE_VALUES)
    counts = {**found, **({f.tab: len(page.rows)} if whole else {})}
    g.todo_count, g.unread_count = found["badge"] if f.narrowed else counts["todo"], found["unread"] or 0
    # Links built once and completed per row (url_for fifty times over is a good part of the page).
    narrowed = url_for("tasks.worklist", **f.query_args(incident=None))
    lines = worklist_rows.lines(page.rows, user.id, narrowed + ("&" if "?" in narrowed else "?") + "incident=")
    names = worklist_ops.task_names(user, found["latest"] or "")
    return render_template("tasks/worklist.html", f=f, page=page, lines=lines, t=worklist_rows.row_words(),
                           counts=counts, cap=worklist_ops.COUNT_CAP, errors=f.errors, task_names=names,
                           incident=worklist_ops.incident_label(f.incident, user),
                           first_page=bool(request.args.get("after")), task_link=url_for("tasks.worklist") + "/")


# What the page reads besides the tabs' counts, in their statement (functions of the user's id only).
_PAGE_VALUES = {"unread": notifications.unread_query, "latest": lambda _user: worklist_ops.latest_definitions()}


@bp.route("/tasks/claim", methods=["POST"])
@login_required
def worklist_act() -> Response:
    """From the list: claim one row, the selected rows (one transaction), or return a row to its group."""
    back = worklist_ops.parse_filter(request.form).query_args(after=request.form.get("after") or None)
    try:
        if request.form.get("unclaim"):
            task = tasks.unclaim_task(request.form["unclaim"], current_user)
            flash(_("已将“%(name)s”退回组内。", name=element_name(task.name)), "success")
            return redirect(url_for("tasks.worklist", **back))
        chosen = [request.form["claim"]] if request.form.get("claim") else request.form.getlist("selected")
        report = worklist_ops.claim_tasks(chosen, current_user)
    except OperationError as exc:
        flash(exc.message, "error")
        return redirect(url_for("tasks.worklist", **back))
    if report.claimed:
        names = listed(element_name(name) for name in report.claimed)
        flash(_("已签收 %(n)d 项:%(names)s", n=len(report.claimed), names=names), "success")
    for label, reason in report.refused:
        flash(_("未能签收 %(label)s:%(reason)s", label=label, reason=reason), "error")
    return redirect(url_for("tasks.worklist", **back))


@bp.route("/incidents/new", methods=["GET", "POST"])
@login_required
def new_incident() -> str | Response:
    """Register a new incident: starts the main process and opens its first task (its quick report,
    held by the monitor who registers; others bring leads to the 线索库)."""
    starts.ensure_may_register(current_user)
    if request.method == "POST":
        instance, first = instances.register_incident(current_user)
        first = first or tasks.next_task_for(current_user, instance.id)
        if first is not None:
            return redirect(url_for("tasks.task", public_id=first.public_id))
        return redirect(url_for("instances.detail", public_id=instance.public_id))
    return render_template("tasks/new_incident.html")


@bp.route("/tasks/<public_id>", methods=["GET"])
@login_required
def task(public_id: str) -> str:
    """The task page: context, form (when the user may work on it) or the submitted record."""
    item = tasks.get_task(public_id, current_user)
    return _render(item, {}, item.draft or {}, {})


@bp.route("/tasks/<public_id>", methods=["POST"])
@login_required
def act(public_id: str) -> str | Response | tuple[str, int]:
    """Claim, unclaim, save a draft or complete a task."""
    action = request.form.get("_action", "complete")
    if action in ("claim", "unclaim", "pass", "urge", "withdraw"):
        return _hand_over(public_id, action)
    if action == "complete" and not any(upload.filename for upload in request.files.values()):
        return _complete_form(public_id)
    item = tasks.get_task(public_id, current_user)
    form = tasks.task_form(item)
    options = tasks.form_options(form)
    locale = tasks.current_locale()
    formdata = request.form.to_dict(flat=False)
    # Files are stored before anything else, so a form sent back with errors still lists them.
    upload_errors = _store_uploads(item, form, formdata)
    files = attachments.stored_files(item, form)
    if action.startswith(ADD_ROW):
        return _with_added_row(item, form, formdata, action, upload_errors)
    if action == "draft":
        submission = forms.parse_submission(form, formdata, options, locale, files)
        tasks.save_draft(public_id, submission.raw, current_user)
        flash(_("草稿已保存。"), "success")
        if upload_errors:
            return _render(item, {}, submission.raw, upload_errors, status=422)
        return redirect(url_for("tasks.task", public_id=public_id))
    submission = forms.parse_submission(form, formdata, options, locale, files)
    if submission.errors or upload_errors:  # show every problem at once, not only what could not be read
        submission = forms.check_submission(form, formdata, item.context, options, locale, files)
        for path, texts in upload_errors.items():
            submission.errors[path] = texts + [text for text in submission.errors.get(path, []) if text not in texts]
    return _complete(item, submission)


@bp.route("/tasks/<public_id>/on-behalf", methods=["POST"])
@login_required
def on_behalf(public_id: str) -> str | Response | tuple[str, int]:
    """An admin completes a stuck task for its holder, with the form's data and a reason (audited)."""
    if not current_user.has_role("admin"):
        abort(404)
    item = tasks.get_task(public_id, current_user)
    form = tasks.task_form(item)
    options = tasks.form_options(form)
    locale = tasks.current_locale()
    formdata = request.form.to_dict(flat=False)
    files = attachments.stored_files(item)
    submission = forms.parse_submission(form, formdata, options, locale, files)
    reason = (request.form.get("reason") or "").strip()
    if (request.form.get("_action") or "").startswith(ADD_ROW):
        return _with_added_row(item, form, formdata, request.form["_action"], {}, reason)
    errors = dict(submission.errors)
    if not reason:
        errors["_reason"] = [_("请填写操作理由。")]
    if errors:
        return _render(item, submission.data, submission.raw, errors, status=422, reason=reason)
    try:
        interventions.complete_on_behalf(public_id, int_arg(request.form, "version"), current_user, reason,
                                         submission.data)
    except Invalid as exc:
        return _render(item, submission.data, submission.raw, exc.errors or {"": [exc.message]}, status=422,
                       reason=reason)
    flash(_("已代为办理“%(name)s”。", name=element_name(item.name)), "success")
    return redirect(url_for("instances.detail", public_id=item.instance.public_id))


def _withdraw(public_id: str) -> None:
    """撤销登记 of a quick report never submitted (decision 138)."""
    tasks.get_task(public_id, current_user)
    instance = withdrawals.withdraw(public_id, current_user)
    flash(_("已撤销登记 %(number)s。该编号不再使用,台账和统计中不会出现。", number=instance.business_key), "success")


def _hand_over(public_id: str, action: str) -> Response | tuple[str, int]:
    """Claim, give back to the group, withdraw a registration never submitted, 转办 to a colleague, or 催办 by
    the office; a refusal of the last two comes back on the task page with its reason."""
    if action == "claim":
        tasks.claim_task(public_id, current_user)
        flash(_("已签收任务。"), "success")
        return redirect(url_for("tasks.task", public_id=public_id))
    if action in ("unclaim", "withdraw"):
        if action == "unclaim":
            tasks.unclaim_task(public_id, current_user)
            flash(_("已退回任务。"), "success")
        else:
            _withdraw(public_id)
        return redirect(url_for("tasks.worklist"))
    item = tasks.get_task(public_id, current_user)
    typed, upload_errors = _typed_with_pass(item) if action == "pass" else (None, {})
    try:
        if upload_errors:
            raise Invalid(_("转办未完成:上传的文件未能保存,请查看表单中的提示。"))
        if action == "pass":
            moved = handover.pass_task(public_id, current_user, request.form.get("pass_to", ""),
                                       request.form.get("pass_reason", ""), draft=typed)
            person = moved.assignee.display_name if moved.assignee else ""
            flash(_("已将“%(name)s”转办给%(person)s。", name=element_name(item.name), person=person), "success")
            return redirect(url_for("tasks.worklist"))
        told = handover.urge_task(public_id, current_user, request.form.get("urge_note", ""))
        flash(_("已催办,%(n)s人收到通知。", n=told), "success")
    except Invalid as exc:
        return _render(item, {}, (item.draft or {}) if typed is None else typed, upload_errors, status=422,
                       handover_errors=exc.errors or {"": [exc.message]}, pass_form=request.form)
    except Conflict as exc:
        flash(exc.message, "error")
    return redirect(url_for("tasks.task", public_id=public_id))


@bp.route("/attachments/<public_id>")
@login_required
def download_attachment(public_id: str) -> Response:
    """An attachment, always as a download and never rendered, to people who may see its task or instance."""
    download = attachments.open_attachment(public_id, current_user)
    response = Response(download.content)
    response.headers.update(download_headers(download.filename, download.content_type))
    return response


def _typed_with_pass(item: HumanTask) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """What the task's form held when 转办 was pressed in it (its files stored), to go with the task as its
    draft; None when the request came without the form (an older page, the API's clients)."""
    if not request.form.get("_with_form"):
        return None, {}
    form = tasks.task_form(item)
    formdata = request.form.to_dict(flat=False)
    upload_errors = _store_uploads(item, form, formdata)
    submission = forms.parse_submission(form, formdata, tasks.form_options(form), tasks.current_locale(),
                                        attachments.stored_files(item, form))
    return submission.raw, upload_errors


def _with_added_row(item: HumanTask, form: forms.FormSpec, formdata: dict[str, list[str]], action: str,
                    upload_errors: dict[str, list[str]], reason: str = "") -> tuple[str, int]:
    """添加一行 without JavaScript: the form again with what was typed and one blank row more, unchecked."""
    submission = forms.parse_submission(form, formdata, tasks.form_options(form), tasks.current_locale(),
                                        attachments.stored_files(item, form))
    raw = forms.add_row(form, formdata, submission.raw, action.removeprefix(ADD_ROW))
    return _render(item, {}, raw, upload_errors, status=422 if upload_errors else 200, reason=reason)


def _store_uploads(item: HumanTask, form: forms.FormSpec, formdata: dict[str, list[str]]) -> dict[str, list[str]]:
    """Store every uploaded file of the form's file[] fields, each in its own transaction.

    The new ids join the posted ones in `formdata`; refused files become errors of their field.
    """
    errors: dict[str, list[str]] = {}
    cap = attachments.max_upload_mb() * attachments.MB
    for definition in form.fields:
        if definition.kind != "files" or definition.read_only:
            continue
        uploads = [upload for upload in request.files.getlist(definition.name) if upload.filename]
        if len(uploads) > definition.max_items:
            errors[definition.name] = [forms.message("maxItems", tasks.current_locale(), limit=definition.max_items)]
        for upload in uploads[:definition.max_items]:
            content = upload.stream.read(cap + 1)  # one byte over the cap is enough to refuse it
            try:
                ref = attachments.store_upload(item.public_id, definition.name, upload.filename or "", content,
                                               current_user)
            except Invalid as exc:
                for path, texts in exc.errors.items():
                    errors.setdefault(path, []).extend(text for text in texts if text not in errors[path])
                continue
            formdata.setdefault(definition.name, []).append(ref["id"])
    return errors


def _complete(item: HumanTask, submission: Any) -> str | Response | tuple[str, int]:
    values = submission.data
    if submission.errors:
        return _render(item, values, submission.raw, submission.errors, status=422)
    try:
        follow_up = tasks.complete_task(item.public_id, submission.data, current_user)
    except Invalid as exc:
        errors = exc.errors or {"": [exc.message]}
        return _render(item, values, submission.raw, errors, status=422)
    except Conflict as exc:
        return _conflict(exc)
    return _completed(completion.Completed(item.name, item.instance.status == InstanceStatus.ERROR,
                                           follow_up.public_id if follow_up is not None else None))


def _complete_form(public_id: str) -> str | Response | tuple[str, int]:
    """The submit button without uploads: the form is parsed against the task read with its lock
    (completion.complete_form), so the task is read once; the page is read again only to show errors."""
    try:
        done = completion.complete_form(public_id, request.form.to_dict(flat=False), current_user)
    except completion.FormRefused as exc:
        submission = exc.submission
        return _render(tasks.get_task(public_id, current_user), submission.data, submission.raw, exc.errors,
                       status=422)
    except Conflict as exc:
        return _conflict(exc)
    return _completed(done)


def _conflict(exc: Conflict) -> tuple[str, int]:
    return render_template("error.html", message=exc.message, status=409, back=url_for("tasks.worklist")), 409


def _completed(done: completion.Completed) -> Response:
    flash(_("“%(name)s”已提交。", name=element_name(done.name)), "success")
    if done.instance_error:
        flash(_("您提交的内容已保存,但流程在后续环节出错,需管理员处理。"), "error")
    if done.follow_up is not None:
        return redirect(url_for("tasks.task", public_id=done.follow_up))
    return redirect(url_for("tasks.worklist"))


def _latest_comments(item: HumanTask) -> dict[str, Any]:
    rows, total = comments.latest(item.instance)
    return {"latest_comments": rows, "comment_total": total}


def _render(item: HumanTask, values: dict[str, Any], raw: dict[str, Any], errors: dict[str, list[str]],
            status: int = 200, reason: str = "", **handover_context: Any) -> tuple[str, int]:
    form = tasks.task_form(item)
    options = tasks.page_options(item, form)
    locale = tasks.current_locale()
    files = attachments.stored_files(item, form) if item.status == TaskStatus.OPEN else None
    fields = forms.build_fields(form, values, raw, errors, item.context, options, locale=locale, files=files)
    links = get_template_attribute("forms/_fields.html", "attachment_links")
    context = ledger_reading.record_in(ledger_reading.current_record(item, tasks.current_context(item, form)), locale)
    context_items = forms.context_items(form, context, options, locale,
                                        tasks.process_fields(item), links,
                                        get_template_attribute("forms/_fields.html", "external_link"))
    # a value the diagrams wrote (the grading basis) in the page's language; links and people's words stay
    context_items = [(label, text if isinstance(text, Markup) else diagram_text(text)) for label, text in context_items]
    submitted = forms.summary(form, item.submitted, options, locale, links) if item.submitted else []
    page = render_template(
        "tasks/task.html", task=item, fields=fields, context_items=context_items, errors=errors,
        form_errors=forms.form_errors(form, errors), workable=tasks.can_work(item, current_user),
        submitted=submitted,
        withdrawable=withdrawals.may_withdraw(item, current_user),
        claimable=item.status == TaskStatus.OPEN and item.assignee_id is None
        and tasks.is_candidate(item, current_user),
        title=form.schema.get("title") or element_name(item.name),
        panel=ledger_reading.panel_for(item.instance, current_user, locale=locale),
        **_latest_comments(item),
        on_behalf=item.status == TaskStatus.OPEN and current_user.has_role("admin")
        and not tasks.can_work(item, current_user),
        reason=reason, lead=lead_card(item, form, options, locale),
        **{**_handover_context(item), **handover_context},
    )
    return page, status


def _handover_context(item: HumanTask) -> dict[str, Any]:
    """What the 转办/催办 panel needs (nothing for a task that is done)."""
    if item.status != TaskStatus.OPEN:
        return {}
    workable = tasks.can_work(item, current_user)
    acting_for = item.assignee.display_name if workable and item.assignee_id not in (None, current_user.id) \
        and item.assignee else None
    # neither the one who signed for the task nor, while it is unsigned, one who may sign for it is offered 催办:
    # they would be urging themselves (decisions 127, 142)
    may_urge = handover.may_urge(current_user) and item.assignee_id != current_user.id and not (
        item.assignee_id is None and tasks.is_candidate(item, current_user))
    return {"pass_people": handover.pass_candidates(item, current_user) if workable else [],
            "may_urge": may_urge,
            "holders_text": handover.holders_text(item, tasks.current_locale()) if may_urge else "",
            "acting_for": acting_for, "pass_form": {}, "handover_errors": {},
            "returned": handover.return_note(item) if item.assignee_id else None}
