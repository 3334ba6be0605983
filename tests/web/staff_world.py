"""A level-4 incident led by 社会保险科 (劳动关系科 related) with a screenshot, worked over HTTP until
investigation and consultation are open, and the people around it: fixtures for the staff pages' tests."""

from __future__ import annotations

import io
import re

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.forms import uploads
from tests.web.scenario import FORMS, act_as, open_task, open_tasks, start_incident, submit

TITLE = "某街道社保窗口服务态度问题引发网民关注"


def ok(response):
    page = response.get_data(as_text=True)
    assert response.status_code == 302, re.findall(r'class="field__error[^"]*"[^>]*>([^<]*)<', page) or page[-2000:]
    return response


def register_with_screenshot(actor, instance):
    task = open_task(instance, "ut_register")
    fields = {**FORMS["ut_register"], "related_units": ["social_insurance", "labour_relations"]}
    items = [("_action", "complete"), ("attachments", FileStorage(io.BytesIO(uploads.PNG), filename="截图.png"))]
    for name, value in fields.items():
        items += [(name, item) for item in (value if isinstance(value, list) else [value])]
    boundary, body = encode_multipart(MultiDict(items))
    return actor.client.post(f"/tasks/{task.public_id}", data=body,
                             content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def people(app, user_factory):
    def person(roles, name, unit=None, display=None):
        return act_as(app, user_factory(roles, name, display_name=display, unit=unit))

    return {
        "monitor": person(["monitor"], "monitor"),
        "office": person(["office_director", "office_staff"], "office", display="王主任"),
        "leader": person(["group_leader"], "leader", display="李组长"),
        "own": person(["section_head", "section_staff"], "own_head", "social_insurance", display="社保科长"),
        "other": person(["section_head", "section_staff", "consultation_member"], "other_head", "employment"),
        "related": person(["section_head"], "related_head", "labour_relations"),
        "spokesperson": person(["spokesperson"], "spokesperson", display="张发言"),
        "admin": person(["admin"], "root"),
    }


@pytest.fixture
def incident(db, people, fake_clock):
    instance = start_incident(people["monitor"])
    ok(register_with_screenshot(people["monitor"], instance))
    ok(submit(people["office"], instance, "ut_confirm_level"))
    ok(submit(people["office"], instance, "ut_request_instruction"))
    ok(submit(people["leader"], instance, "ut_instruction_decision"))
    fake_clock.advance(hours=3)
    assert {"ut_consult", "ut_investigate"} <= {t.spec_id for t in open_tasks(instance)}
    return instance
