"""The process owners' studio: workspace files, the BPMN/DMN modeller and the form editor, validate and
deploy, version history with downloads and a visual diff, uploads of files made elsewhere."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import forms
from app.forms.messages import normalize_locale
from app.operations import (
    element_names,
    imports,
    options,
    sandbox,
    studio,
    studio_editor,
    studio_history,
    studio_index,
    tasks,
)
from app.operations.errors import DeployRefused, Invalid, OperationError
from app.web.filters import listed
from app.web.inputs import int_arg, parse_json
from app.web.security import DIAGRAM_CSP, download_headers

bp = Blueprint("studio", __name__, url_prefix="/studio")
MAX_UPLOAD = studio.MAX_FILE_BYTES
AUTOSAVE_SECONDS = 5


def _editor() -> None:
    if not studio.can_edit(current_user):
        abort(404)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False, default=str), status=status,
                    mimetype="application/json")


@bp.route("/")
@login_required
def index() -> Response:
    """Files of the workspace (drafts marked), processes with their newest version, validate, deploy."""
    _editor()
    files = studio.list_files()
    # With drafts in the workspace, the page says what a deploy would do (or why it cannot): the result
    # for exactly this content when it is known, else the page fetches it once shown (studio_index).
    drafts = any(f.draft is not None for f in files)
    validation = studio_index.remembered(files) if drafts else None
    return _index_page(files, validation=validation, validation_pending=drafts and validation is None)


def _index_page(files: list[Any] | None = None, status: int = 200, **context: Any) -> Response:
    files = studio.list_files() if files is None else files
    query = request.args.get("q", "")[:200].strip()
    by = request.args.get("group", "kind")
    by = by if by in studio_index.GROUPINGS else "kind"
    users = studio_index.file_users()
    shown = studio_index.search(files, query, users)
    page = render_template("studio/index.html", files=files, groups=studio_index.group(shown, by, users),
                           shown=len(shown), query=query, group_by=by, users=users,
                           processes=studio_history.processes(), can_deploy=studio.can_deploy(current_user),
                           staying=studio.staying_instances(), **context)
    return make_response(page, status)


@bp.route("/validation")
@login_required
def validation_fragment() -> Response:
    """The validation of the workspace with its drafts, as the index's HTML fragment (fetched by the page)."""
    _editor()
    result = studio_index.validate(current_user)
    return make_response(render_template("studio/_validation.html", validation=result,
                                         staying=studio.staying_instances()))


@bp.route("/new", methods=["POST"])
@login_required
def new_file() -> Response:
    """Start a new process, decision table or form from a template (a draft until deployed)."""
    _editor()
    try:
        row = studio.new_file(request.form.get("name", "").strip(), current_user)
    except OperationError as exc:
        flash(exc.message, "error")
        return redirect(url_for("studio.index"))
    return redirect(url_for("studio.edit", name=row.name))


@bp.route("/validate", methods=["POST"])
@login_required
def validate() -> Response:
    """Run the deploy checks on the workspace with its drafts; JSON for the editor, or the index page."""
    _editor()
    result = studio_index.validate(current_user)
    payload = {"ok": result.ok, "problems": result.problems, "would_change": result.would_change}
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return _json(payload)
    return _index_page(validation=result, status=200 if result.ok else 422)


@bp.route("/deploy", methods=["POST"])
@login_required
def deploy() -> Response:
    """Deploy the workspace as new versions (change note required); refused with every problem listed."""
    if not studio.can_deploy(current_user):
        abort(404)
    try:
        done = studio.deploy_workspace(current_user, request.form.get("note", ""))
    except (DeployRefused, Invalid) as exc:
        problems = getattr(exc, "problems", [])
        return _index_page(status=422, deploy_error=exc.message, deploy_problems=problems,
                           note=request.form.get("note", ""), validation=studio.Validation(problems))
    if done.result.created:
        parts = []
        because = studio_history.because_of_tables_or_forms(done.result.created)
        for key, version in sorted(done.result.created.items()):
            staying = done.staying.get(key, 0)
            note = _("(%(n)s 个未结束的实例留在旧版本)", n=staying) if staying else ""
            if key in because:
                note += _("(流程图未变,因 %(files)s 变更)", files=listed(because[key]))
            parts.append(f"{key} v{version}{note}")
        flash(_("已部署:%(list)s。", list=listed(parts)), "success")
    else:
        flash(_("没有变化,未产生新版本。"), "success")
    return redirect(url_for("studio.index"))


@bp.route("/files/<name>")
@login_required
def edit(name: str) -> Response:
    """The editor of one file: the modeller for BPMN/DMN, the schema editor with a live preview for forms."""
    _editor()
    row = studio.get_file(name)
    template = "studio/form.html" if row.kind == "form" else "studio/modeler.html"
    # Drafts are saved a few seconds after the last edit (`?autosave=` seconds, 1-600, for tests).
    autosave = int_arg(request.args, "autosave", AUTOSAVE_SECONDS, high=600)
    page = render_template(template, file=row, catalogue=studio_editor.catalogue(),
                           companion=studio_editor.ui_companion(name), autosave_seconds=autosave)
    response = make_response(page)
    response.headers["Content-Security-Policy"] = DIAGRAM_CSP
    return response


@bp.route("/files/<name>/source")
@login_required
def source(name: str) -> Response:
    """The file's current text (draft if any) as plain text, for the editor to load."""
    _editor()
    response = make_response(studio.get_file(name).current)
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    return response


@bp.route("/files/<name>/draft", methods=["POST"])
@login_required
def save(name: str) -> Response:
    """Save a draft (the editor posts the file's text as the request body)."""
    _editor()
    try:
        studio.save_draft(name, request.get_data(cache=False)[:MAX_UPLOAD + 1], current_user)
    except Invalid as exc:
        return _json({"ok": False, "message": exc.message}, 422)
    return _json({"ok": True})


@bp.route("/files/<name>/discard", methods=["POST"])
@login_required
def discard(name: str) -> Response:
    """Throw the draft away."""
    _editor()
    studio.discard_draft(name, current_user)
    flash(_("草稿已放弃。"), "success")
    return redirect(url_for("studio.index"))


@bp.route("/files/<name>/executable", methods=["POST"])
@login_required
def make_executable(name: str) -> Response:
    """Mark the file's processes executable (a draft), as the problem list offers."""
    _editor()
    try:
        imports.make_executable(name, current_user)
    except OperationError as exc:
        flash(exc.message, "error")
    else:
        flash(_("已将“%(name)s”中的流程设为可执行(草稿)。", name=name), "success")
    return redirect(url_for("studio.index"))


@bp.route("/upload", methods=["POST"])
@login_required
def upload() -> Response:
    """A file made in another modeller (or a new form): converted files show their report before the first
    save; files needing no conversion become a draft at once; hostile files are refused."""
    _editor()
    item = request.files.get("file")
    if item is None or not item.filename:
        flash(_("请选择文件。"), "error")
        return redirect(url_for("studio.index"))
    content = item.stream.read(MAX_UPLOAD + 1)
    try:
        preview = imports.preview_upload(item.filename, content, current_user)
        if preview is not None:
            return make_response(render_template("studio/import.html", preview=preview))
        row = studio.save_draft(item.filename, content, current_user, create=True)
    except OperationError as exc:
        flash(_("上传被拒绝:%(why)s", why=exc.message), "error")
        return redirect(url_for("studio.index"))
    flash(_("已上传为草稿:%(name)s", name=row.name), "success")
    return redirect(url_for("studio.edit", name=row.name))


@bp.route("/import", methods=["POST"])
@login_required
def save_import() -> Response:
    """Save a converted file (and its form stubs) as drafts, after the owner read the report."""
    _editor()
    name = request.form.get("name", "")[:200]
    try:
        row = imports.save_import(name, request.form.get("content", ""), request.form.get("forms", ""),
                                  current_user)
    except OperationError as exc:
        flash(_("保存被拒绝:%(why)s", why=exc.message), "error")
        return redirect(url_for("studio.index"))
    flash(_("已导入为草稿:%(name)s", name=row.name), "success")
    return redirect(url_for("studio.edit", name=row.name))


@bp.route("/preview-form", methods=["POST"])
@login_required
def preview_form() -> Response:
    """The form rendered by the worklist's renderer from the editor's (unsaved) text, as an HTML fragment."""
    _editor()
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    name = str(body.get("name") or "preview.schema.json")[:200]
    form, problems = studio_editor.preview_form(name, str(body.get("schema") or ""), str(body.get("uischema") or ""))
    if form is None:  # a preview of text being typed: problems are its answer, not a failed request
        return _json({"ok": False, "problems": problems})
    locale = tasks.current_locale()
    form = forms.localize(form, locale)  # the task pages' catalogue (decision 102): what staff will read
    choices = options.options_for(forms.sources_of(form), locale)
    fields = forms.build_fields(form, {}, {}, {}, {}, choices, locale=locale)
    html = render_template("studio/_preview.html", fields=fields, title=form.schema.get("title") or name)
    return _json({"ok": True, "html": html})


@bp.route("/processes/<key>")
@login_required
def versions(key: str) -> Response:
    """Version history of a process: who deployed, when, why; downloads; choose two to compare."""
    _editor()
    return _versions_page(key[:100])


def _versions_page(key: str, error: str | None = None, status: int = 200) -> Response:
    page = render_template("studio/versions.html", key=key, rows=studio_history.versions(key),
                           changes=studio_history.version_changes(key), siblings=studio_history.deployed_with(key),
                           events=studio_history.made_current_events(key),
                           can_deploy=studio.can_deploy(current_user), error=error)
    return make_response(page, status)


@bp.route("/processes/<key>/v<int:version>/current", methods=["POST"])
@login_required
def make_current(key: str, version: int) -> Response:
    """Make an earlier version current again (undo of a deploy): new starts use it, running instances keep
    theirs; a note is required."""
    if not studio.can_deploy(current_user):
        abort(404)
    try:
        done = studio_history.make_current(key[:100], version, current_user, request.form.get("note", ""))
    except Invalid as exc:
        return _versions_page(key[:100], exc.message, 422)
    message = _("v%(version)s 已设为当前版本,新启动的流程使用该版本;运行中的实例不受影响。", version=version)
    if done["kept"]:
        message += _("以下文件仍被其他流程的当前版本使用,工作区中未还原:%(list)s。", list=listed(done["kept"]))
    flash(message, "success")
    return redirect(url_for("studio.versions", key=key[:100]))


@bp.route("/processes/<key>/v<int:version>/<name>")
@login_required
def download(key: str, version: int, name: str) -> Response:
    """A file as deployed with a version (diagram, decision table or form), as a download."""
    _editor()
    response = Response(studio_history.version_file(key[:100], version, name[:200]))
    response.headers.update(download_headers(name, "application/json" if name.endswith(".json") else "application/xml"))
    return response


@bp.route("/processes/<key>/diff")
@login_required
def diff(key: str) -> Response:
    """Two versions side by side: added, removed and changed elements on the diagrams, changed properties."""
    _editor()
    old, new = int_arg(request.args, "old"), int_arg(request.args, "new")
    if not old or not new:
        abort(404)
    changes = studio_history.full_diff(key[:100], old, new)
    page = render_template("studio/diff.html", key=key, old=old, new=new, changes=changes)
    response = make_response(page)
    response.headers["Content-Security-Policy"] = DIAGRAM_CSP
    return response


# -- test runs ----------------------------------------------------------------------------------


@bp.route("/sandbox", methods=["GET", "POST"])
@login_required
def sandbox_index() -> str | Response:
    """Start a test run of a process of the workspace (drafts included); the user's recent runs."""
    _editor()
    error = None
    if request.method == "POST":
        key = (request.form.get("process") or "")[:100]
        text = request.form.get("data") or "{}"
        try:
            data = parse_json(text)
            if not isinstance(data, dict):
                raise ValueError
        except ValueError:
            error = _("开始数据应为 JSON 对象。")
        else:
            try:
                run = sandbox.start(current_user, key, data)
            except OperationError as exc:
                error = exc.message
            else:
                return redirect(url_for("studio.sandbox_run", public_id=run.public_id))
    page = render_template("studio/sandbox_index.html", runs=sandbox.runs(current_user), error=error,
                           processes=studio.process_choices(), form=request.form)
    return make_response(page, 422 if error else 200)


@bp.route("/sandbox/<public_id>")
@login_required
def sandbox_run(public_id: str) -> Response:
    """A test run: the path taken on the diagram, the open tasks with their forms, timers, what happened."""
    _editor()
    return _sandbox_page(sandbox.get_run(public_id[:36], current_user))


def _sandbox_page(run: Any, guid: str | None = None, raw: dict[str, Any] | None = None,
                  errors: dict[str, list[str]] | None = None, status: int = 200) -> Response:
    locale = tasks.current_locale()
    open_forms = []
    for task in run.open_tasks:
        form = sandbox.task_form(run, task)
        form = forms.localize(form, locale) if form else None
        mine = task["guid"] == guid
        fields = forms.build_fields(form, {}, raw if mine else {}, errors if mine else {}, task.get("context") or {},
                                    options.options_for(forms.sources_of(form), locale), locale=locale) if form else []
        open_forms.append((task, fields, (errors or {}).get("", []) if mine else []))
    view = sandbox.view(run)  # the diagram's names drawn in the page's language, as on the instance page
    processes = [{**p, "name": element_names.element_name(p["name"], locale)} for p in view["diagram"]["processes"]]
    view["diagram"] = {**view["diagram"], "processes": processes,
                       "labels": dict(element_names.catalogue(normalize_locale(locale)))}
    title = next((p["name"] for p in processes if p["id"] == run.process_key), run.process_key)
    page = render_template("studio/sandbox_run.html", run=run, open_forms=open_forms, view=view, title=title)
    response = make_response(page, status)
    response.headers["Content-Security-Policy"] = DIAGRAM_CSP
    return response


@bp.route("/sandbox/<public_id>/tasks/<guid>", methods=["POST"])
@login_required
def sandbox_complete(public_id: str, guid: str) -> Response:
    """Complete a test run's task with sample data; errors come back next to the fields."""
    _editor()
    run = sandbox.get_run(public_id[:36], current_user)
    task = sandbox.open_task(run, guid)
    form = sandbox.task_form(run, task)
    data: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    if form is not None:
        submission = forms.parse_submission(form, request.form.to_dict(flat=False),
                                            options.options_for(forms.sources_of(form)), tasks.current_locale())
        data, raw = submission.data, submission.raw
        if submission.errors:
            return _sandbox_page(run, guid, raw, dict(submission.errors), 422)
    try:
        sandbox.complete(run.public_id, guid, data, current_user)
    except Invalid as exc:
        return _sandbox_page(sandbox.get_run(public_id[:36], current_user), guid, raw,
                             exc.errors or {"": [exc.message]}, 422)
    return redirect(url_for("studio.sandbox_run", public_id=run.public_id))


@bp.route("/sandbox/<public_id>/timers", methods=["POST"])
@login_required
def sandbox_timers(public_id: str) -> Response:
    """Fire the run's next timer now."""
    _editor()
    sandbox.fire_timers(public_id[:36], current_user)
    return redirect(url_for("studio.sandbox_run", public_id=public_id))


@bp.route("/sandbox/<public_id>/diagram/<process_id>.bpmn")
@login_required
def sandbox_diagram(public_id: str, process_id: str) -> Response:
    """The draft BPMN a test run runs, for its diagram."""
    _editor()
    response = make_response(sandbox.source_of(sandbox.get_run(public_id[:36], current_user), process_id[:100]))
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    return response
