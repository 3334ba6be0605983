"""Test runs of drafts: start a process of the workspace (drafts included) in a sandbox, complete its
tasks with sample data, fire its timers at once, and see the path it took.

A sandbox run lives in its own table with its own compiled spec; it is never a `process_instance`,
so worklists, the ledger, statistics, the dashboard and notifications never see it. Service tasks'
effects (notifications, ledger lines, new incidents) are listed on the run, not carried out; ledger
queries answer with an empty ledger.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import clock, forms
from app.db import transaction
from app.engine import repair, runner, state
from app.engine.runner import RouteRefused, TaskNotReady
from app.engine.services import SideEffect
from app.extensions import db
from app.models import SandboxRun, User
from app.operations import deploy, ledger, options, problem_text, profiles, studio
from app.operations.errors import Conflict, Forbidden, Invalid, NotFound

MAX_EVENTS = 500


def _owner_only(run: SandboxRun, actor: User) -> None:
    if run.owner_id != actor.id and not actor.has_role("admin"):
        raise NotFound(str(_l("试运行不存在。")))


def start(actor: User, process_key: str, data: dict[str, Any]) -> SandboxRun:
    """Compile the workspace with its drafts and start `process_key` in a sandbox with `data`."""
    if not studio.can_edit(actor):
        raise Forbidden(str(_l("您没有此项权限。")))
    processes, forms_ = studio.workspace_bundle()
    compiled, loaded_forms, problems = deploy.compile_files(db.session, processes, forms_)
    if problems:
        raise Invalid(str(_l("草稿未通过校验,不能试运行:%(why)s",
                             why="; ".join(f"{p.file} {p.element or ''} {problem_text.describe(p)['message']}"
                                      for p in problems[:5]))))
    process = compiled.get(process_key)
    if process is None:
        raise NotFound(str(_l("流程 %(key)s 不存在或不可执行。", key=process_key)))
    spec = state.load_spec(f"sandbox:{process.content_hash}", process.spec_json)
    with transaction() as session:
        run = SandboxRun(owner_id=actor.id, process_key=process_key, spec_key=f"sandbox:{process.content_hash}",
                         spec_json=process.spec_json,
                         sources={name: processes[name].decode() for name in process.files},
                         forms={name: loaded_forms[name] for name in sorted(process.forms)}, events=[])
        session.add(run)
        session.flush()
        data = {**data, "initiator": actor.username, "sandbox": True}
        data.setdefault("discovered_at", clock.now().isoformat())
        try:
            step = runner.start(spec, data, _budget(), _environment(run))
        except RouteRefused as exc:
            raise Invalid(exc.message or str(_l("“%(name)s”没有可走的分支。", name=exc.element_name))) from exc
        _apply(run, step, {"action": "started", "data": data})
        return run


def _budget() -> runner.Budget:
    return runner.Budget(steps=current_app.config["STEP_BUDGET"])


def _environment(run: SandboxRun) -> runner.Environment:
    def query(name: str, params: dict[str, Any]) -> Any:
        # The run has no incident of its own; statistics are read-only and read as reports read them.
        return ledger.query(db.session, None, name, params)

    return runner.Environment(profile=profiles.active_values(db.session), query=query,
                              record=lambda effect: _note_effect(run, effect))


def _note_effect(run: SandboxRun, effect: SideEffect) -> None:
    _event(run, {"action": "effect", "operator": effect.operator, "element": effect.task_spec,
                 "params": effect.params})


def _event(run: SandboxRun, event: dict[str, Any]) -> None:
    run.events = [*run.events, {"at": clock.now().isoformat(), **event}][-MAX_EVENTS:]


def _apply(run: SandboxRun, step: runner.Step, event: dict[str, Any]) -> None:
    _event(run, {**event, "completed": step.completed_elements})
    for effect in step.side_effects:
        if effect.operator != "ledger":  # ledger lines were noted as they happened
            _note_effect(run, effect)
    if not step.state_kept:
        run.state_json = step.state
        run.data = step.data
    run.open_tasks = [{"guid": t.guid, "spec_id": t.spec_id, "process_id": t.process_id, "name": t.name,
                       "lane": t.lane, "form": t.form, "ui_form": t.ui_form, "documentation": t.documentation,
                       "context": t.data} for t in step.ready]
    run.updated_at = clock.now()
    if step.failure is not None:
        run.status, run.error_text = "error", f"{step.failure.element_id}: {step.failure.reason}"
        _event(run, {"action": "error", "element": step.failure.element_id, "reason": step.failure.reason})
    else:
        run.status, run.error_text = ("completed" if step.ended else "waiting"), None


def get_run(public_id: str, actor: User) -> SandboxRun:
    """A test run of the user (admins see all), else NotFound."""
    run = db.session.scalar(select(SandboxRun).where(SandboxRun.public_id == public_id))
    if run is None:
        raise NotFound(str(_l("试运行不存在。")))
    _owner_only(run, actor)
    return run


def runs(actor: User, limit: int = 20) -> list[SandboxRun]:
    """The user's latest test runs."""
    return list(db.session.scalars(select(SandboxRun).where(SandboxRun.owner_id == actor.id)
                                   .order_by(SandboxRun.id.desc()).limit(limit)))


def spec_of(run: SandboxRun) -> state.LoadedSpec:
    return state.load_spec(run.spec_key, run.spec_json)


def task_form(run: SandboxRun, task: dict[str, Any]) -> forms.FormSpec | None:
    """The form of an open task of the run, from the run's own (draft) forms."""
    schema = run.forms.get(task.get("form") or "")
    if schema is None:
        return None
    return forms.FormSpec(name=task["form"], schema=schema, uischema=run.forms.get(task.get("ui_form") or "") or {})


def open_task(run: SandboxRun, guid: str) -> dict[str, Any]:
    task = next((t for t in run.open_tasks if t["guid"] == guid), None)
    if task is None:
        raise Conflict(str(_l("该任务已办理,无需重复提交。")))
    return task


def complete(public_id: str, guid: str, data: dict[str, Any], actor: User) -> SandboxRun:
    """Complete an open task of the run with sample data, validated by its (draft) form."""
    with transaction() as session:
        run = session.scalar(select(SandboxRun).where(SandboxRun.public_id == public_id).with_for_update())
        if run is None:
            raise NotFound(str(_l("试运行不存在。")))
        _owner_only(run, actor)
        task = open_task(run, guid)
        form = task_form(run, task)
        if form is not None:
            data = forms.declared_data(form, data)
            errors = forms.validate(form, data, task.get("context") or {}, options.options_for(forms.sources_of(form)))
            if errors:
                raise Invalid(str(_l("表单有错误,请修改后再提交。")), errors)
            data = {**forms.blanks(form, data), **data}
        try:
            step = runner.complete(spec_of(run), run.state_json, guid, data, _budget(), _environment(run))
        except RouteRefused as exc:
            message = exc.message or str(_l("“%(name)s”没有可走的分支。", name=exc.element_name))
            raise Invalid(message, {"": [message]}) from exc
        except TaskNotReady as exc:
            raise Conflict(str(_l("该任务已办理,无需重复提交。"))) from exc
        _apply(run, step, {"action": "task_completed", "element": task["spec_id"], "name": task["name"],
                           "data": data})
        return run


def fire_timers(public_id: str, actor: User) -> SandboxRun:
    """Make every waiting timer of the run due now and fire it (no need to wait hours in a test)."""
    with transaction() as session:
        run = session.scalar(select(SandboxRun).where(SandboxRun.public_id == public_id).with_for_update())
        if run is None:
            raise NotFound(str(_l("试运行不存在。")))
        _owner_only(run, actor)
        spec = spec_of(run)
        timers = repair.waiting_timers(spec, run.state_json)
        if not timers:
            raise Conflict(str(_l("没有等待中的定时。")))
        soonest = timers[0]
        step = repair.reschedule_timer(spec, run.state_json, soonest.guid, clock.now() - timedelta(seconds=1),
                                       _budget(), _environment(run))
        _apply(run, step, {"action": "timer_fired", "element": soonest.element_id, "name": soonest.name})
        return run


def view(run: SandboxRun) -> dict[str, Any]:
    """The diagram statuses and the waiting timers and messages of a run."""
    spec = spec_of(run)
    names = runner.process_names(spec)
    status = runner.element_status(spec, run.state_json) if run.state_json else {}
    order = [run.process_key, *sorted(p for p in status if p != run.process_key)]
    ended = run.status == "completed" or not run.state_json
    timers, messages = ([], []) if ended else repair.waiting_for(spec, run.state_json)
    return {
        "diagram": {"processes": [{"id": pid, "name": names.get(pid, pid), "status": status.get(pid, {})}
                                  for pid in order]},
        "timers": timers,
        "messages": messages,
    }


def source_of(run: SandboxRun, process_id: str) -> str:
    """The (draft) BPMN file that defines `process_id` in the run."""
    for name, xml in sorted(run.sources.items()):
        if name.endswith(".bpmn") and f'id="{process_id}"' in xml:
            return xml
    raise NotFound(str(_l("流程图不存在。")))
