"""Complete a task from its posted form in one use case: the task page's submit button.

The page used to read the task (to know its form), then `tasks.complete_task` locked and read it again;
here the form is parsed against the task read with its lock, so a completion sends one read of the
task, not two (issue 13).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app import forms
from app.db import transaction
from app.models import InstanceStatus, User
from app.operations import attachments, tasks
from app.operations.errors import Invalid
from app.operations.failures import quarantining


@dataclass(frozen=True)
class Completed:
    """What the page says after a completion: the task's name, whether the step left the instance in
    error, and the public id of the task it opened that the person may work on next."""

    name: str
    instance_error: bool
    follow_up: str | None


class FormRefused(Invalid):
    """The posted form was refused (nothing was written); `submission` holds what was typed, for the page."""

    def __init__(self, message: str, errors: dict[str, list[str]], submission: forms.Submission):
        super().__init__(message, errors)
        self.submission = submission


@quarantining
def complete_form(public_id: str, formdata: dict[str, list[str]], user: User) -> Completed:
    """Parse the posted form against the locked task, then `tasks.complete_locked` (exactly once, 409 to
    the others, as `tasks.complete_task`). Uploads are stored before, by `attachments.store_upload`."""
    with transaction() as session:
        locked = tasks.lock_for_completion(session, public_id, user)
        task = locked.task
        form = tasks.task_form(task)
        choices = tasks.form_options(form)  # once, for parsing and for validation
        locale = tasks.current_locale()
        files = attachments.stored_files(task, form)
        submission = forms.parse_submission(form, formdata, choices, locale, files)
        if submission.errors:  # show every problem at once, not only what could not be read
            submission = forms.check_submission(form, formdata, task.context, choices, locale, files)
            raise FormRefused(str(_l("表单有错误,请修改后再提交。")), submission.errors, submission)
        try:
            following = tasks.complete_locked(session, locked, form, choices, submission.data, user)
        except Invalid as exc:
            raise FormRefused(exc.message, exc.errors or {"": [exc.message]}, submission) from exc
        return Completed(task.name, task.instance.status == InstanceStatus.ERROR,
                         following.public_id if following is not None else None)

