"""Worklist, task pages (the JSON Schema forms) and starting a new incident."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app import forms
from app.models import HumanTask, InstanceStatus, TaskStatus
from app.operations import instances, tasks
from app.operations.errors import Conflict, Invalid

bp = Blueprint("tasks", __name__)


@bp.route("/")
@login_required
def index() -> Response:
    """The worklist is the home page."""
    return redirect(url_for("tasks.worklist"))


@bp.route("/tasks")
@login_required
def worklist() -> str:
    """My tasks and my groups' tasks, most urgent first."""
    view = request.args.get("view", "mine")
    if view not in ("mine", "group"):
        view = "mine"
    mine = tasks.list_my_tasks(current_user)
    group = tasks.list_group_tasks(current_user)
    return render_template("tasks/worklist.html", view=view, mine=mine, group=group,
                           rows=mine if view == "mine" else group)


@bp.route("/incidents/new", methods=["GET", "POST"])
@login_required
def new_incident() -> str | Response:
    """Register a new incident: starts the main process and opens its first task."""
    if request.method == "POST":
        instance = instances.start_incident(current_user)
        first = tasks.next_task_for(current_user, instance.id)
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
    if action == "claim":
        tasks.claim_task(public_id, current_user)
        flash(_("已签收任务。"), "success")
        return redirect(url_for("tasks.task", public_id=public_id))
    if action == "unclaim":
        tasks.unclaim_task(public_id, current_user)
        flash(_("已退回任务。"), "success")
        return redirect(url_for("tasks.worklist"))
    item = tasks.get_task(public_id, current_user)
    form = tasks.task_form(item)
    options = tasks.form_options(form)
    formdata = request.form.to_dict(flat=False)
    if action == "draft":
        submission = forms.parse_submission(form, formdata, options)
        tasks.save_draft(public_id, submission.raw, current_user)
        flash(_("草稿已保存。"), "success")
        return redirect(url_for("tasks.task", public_id=public_id))
    submission = forms.parse_submission(form, formdata, options, tasks.current_locale())
    if submission.errors:  # show every problem at once, not only what could not be read
        submission = forms.check_submission(form, formdata, item.context, options, tasks.current_locale())
    return _complete(item, submission)


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
        page = render_template("error.html", message=exc.message, status=409,
                               back=url_for("tasks.worklist"))
        return page, 409
    flash(_("“%(name)s”已提交。", name=item.name), "success")
    if item.instance.status == InstanceStatus.ERROR:
        flash(_("您提交的内容已保存,但流程在后续环节出错,需管理员处理。"), "error")
    if follow_up is not None:
        return redirect(url_for("tasks.task", public_id=follow_up.public_id))
    return redirect(url_for("tasks.worklist"))


def _render(item: HumanTask, values: dict[str, Any], raw: dict[str, Any], errors: dict[str, list[str]],
            status: int = 200) -> tuple[str, int]:
    form = tasks.task_form(item)
    options = tasks.form_options(form)
    locale = tasks.current_locale()
    fields = forms.build_fields(form, values, raw, errors, item.context, options, locale=locale)
    context_items = forms.context_items(form, item.context, options, locale, tasks.process_fields(item))
    submitted = forms.summary(form, item.submitted, options, locale) if item.submitted else []
    page = render_template(
        "tasks/task.html", task=item, fields=fields, context_items=context_items, errors=errors,
        form_errors=forms.form_errors(form, errors), workable=tasks.can_work(item, current_user),
        submitted=submitted,
        claimable=item.status == TaskStatus.OPEN and item.assignee_id is None
        and tasks.is_candidate(item, current_user),
        title=form.schema.get("title") or item.name,
    )
    return page, status
