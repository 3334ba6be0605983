"""Posting hostile values into one rendered form: the form unchanged, its fields and a name with a NUL byte
(always a 400 from the request guard), date and number fields at the ends of their ranges inside an otherwise valid
submission, then Hypothesis' mixes of hostile names and values. Every post is rolled back; a refused one
must have changed nothing."""

from __future__ import annotations

import re
from typing import Any

from flask import render_template_string
from hypothesis import given
from hypothesis import strategies as st

from app import forms
from app.operations import tasks
from tests.web import hostile_walks
from tests.web.hostile import (
    SETTINGS,
    Form,
    Probe,
    hostile_name,
    hostile_text,
    local_path,
    parse_page,
)

_ERRORS = r'field__error[^>]*>([^<]+)<'
EXTREMES = {
    "date": ("0001-01-01", "9999-12-31"),
    "datetime-local": ("0001-01-01T00:00", "9999-12-31T23:59"),
    "number": ("9" * 25, "-" + "9" * 25),
    "hidden": ("9" * 25,),
}
FIELDS_MACRO = ('{% from "forms/_fields.html" import render_fields %}'
                '<form method="post">{{ render_fields(fields) }}</form>')


def _replace(pairs: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [pair for pair in pairs if pair[0] != name] + [(name, value)]


def fuzz_form(client: Any, form: Form, page: str, baseline: list[tuple[str, str]] | None = None,
              follow: tuple[str, ...] = ()) -> None:
    """Every field of `form` with hostile values (see the module's docstring); where dates and numbers at
    the ends of their ranges are accepted, the pages in `follow` must still show them."""
    url = local_path(form.action) or page
    base = form.baseline() if baseline is None else baseline
    names = sorted(set(form.names))
    probe = Probe(client)
    follow = follow or (page,)
    probe.post(url, base)
    assert probe.post(url, [(name, "a\x00b") for name, _value in base]) == 400, url
    assert probe.post(url, [*base, ("a\x00b", "")]) == 400, url
    for name in names:
        for value in EXTREMES.get(form.kinds.get(name, ""), ()):
            probe.post(url, _replace(base, name, value), follow)

    @SETTINGS
    @given(st.lists(st.tuples(st.sampled_from(names) | hostile_name(), hostile_text()), min_size=1, max_size=4))
    def hostile_fields(changes: list[tuple[str, str]]) -> None:
        pairs = [pair for pair in base if pair[0] not in {name for name, _value in changes}]
        probe.post(url, pairs + changes)

    hostile_fields()


def fuzz_task_form(app: Any, client: Any, flow: Any, row: Any) -> None:
    """The task's form as its page renders it, starting from a valid answer (which must be accepted)."""
    url = f"/tasks/{row.public_id}"
    page = client.get(url)
    assert page.status_code == 200, url
    rendered, _links = parse_page(page.get_data(as_text=True), url)
    form = next((f for f in rendered if local_path(f.action) == url and ("_action", "complete") in f.submits), None)
    assert form is not None, f"no form to complete {hostile_walks.form_of(row)} for the walker"
    valid = valid_pairs(app, flow, row)
    valid_names = {name for name, _value in valid}
    base = [pair for pair in form.pairs if pair[0] not in valid_names] + valid + [("_action", "complete")]
    probe = Probe(client)
    assert probe.post(url, base) == 302, (hostile_walks.form_of(row), base, re.findall(_ERRORS, probe.last))
    incident = flow.incident()
    follow = (f"/instances/{flow.instance.public_id}", *([f"/ledger/{incident.number}"] if incident else []))
    fuzz_form(client, form, url, base, follow)


def valid_pairs(app: Any, flow: Any, row: Any) -> list[tuple[str, str]]:
    """The walk's valid answer for the task, as the task page's renderer writes it into the form."""
    answer = hostile_walks.answer_for(flow, row)
    with app.test_request_context():
        form = tasks.task_form(row)
        fields = forms.build_fields(form, answer, {}, {}, row.context, tasks.form_options(form), locale="zh_CN")
        html = render_template_string(FIELDS_MACRO, fields=fields)
    rendered, _links = parse_page(html, "/")
    return rendered[0].pairs
