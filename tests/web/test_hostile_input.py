"""Hostile input is a clear 4xx or an ordinary answer, never a server error, and a refused request changes
nothing: NUL bytes, lone surrogates, huge integers, dates out of range and deep nesting in every field of
every form (each form of forms/ on a real open task) and in every query parameter of every page
(docs/security.md §3, §12, §13; decision 62). The examples are derandomized: every run sends the same."""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db
from app.models import Alert, AuditEvent, ProcessInstance
from app.operations import intake
from tests.conftest import PASSWORD, login, make_user
from tests.processes.answers import T0
from tests.web import hostile_walks
from tests.web.hostile import (
    CORPUS,
    DEEP,
    SETTINGS,
    Form,
    Probe,
    changed_tables,
    fingerprint,
    hostile_name,
    hostile_text,
    local_path,
    parse_page,
    post_form,
    rolled_back,
    short,
)
from tests.web.hostile_forms import fuzz_form, fuzz_task_form
from tests.web.hostile_world import build_world, get_urls, rendered_forms

LEDGER_ROLES = ["office_director", "admin"]
QUERY_CORPUS = ("\x00", "\ud800", "9" * 25, "-" + "9" * 25, "0001-01-01", "9999-12-31", "[" * DEEP, "x" * 5000,
                "%00", "-1")


def _counts() -> tuple[int, ...]:
    """What a refused request must not change (the API's audit line of the call itself aside)."""
    events = select(func.count()).select_from(AuditEvent).where(AuditEvent.action != "api_call")
    return (db.session.scalar(events), *(db.session.scalar(select(func.count()).select_from(model))
                                        for model in (ProcessInstance, Alert)))


# -- the cases found by hand --------------------------------------------------------------------------------------


def test_a_nul_byte_in_a_task_field_is_refused_and_changes_nothing(app, db, fake_clock):
    flow = hostile_walks.Flow("yq_incident", incident=True, unit="social_insurance")
    task = flow.task("ut_register")
    client = app.test_client()
    login(client, flow.user)
    before, state = fingerprint(), (flow.instance.version, flow.instance.state_json)
    response = client.post(f"/tasks/{task.public_id}", data={**hostile_walks.raw_register(), "title": "标题\x00"})
    assert response.status_code == 400
    assert "请求无法处理" in response.get_data(as_text=True)
    assert changed_tables(before) == []
    db.session.refresh(flow.instance)
    assert (flow.instance.version, flow.instance.state_json) == state


@pytest.mark.parametrize(("url", "data"), [
    ("/login", {"username": "admin\x00", "password": "x"}),
    ("/login", {"username\x00": "admin", "password": "x"}),
])
def test_forms_without_a_session_refuse_nul_bytes(client, url, data):
    assert client.post(url, data=data).status_code == 400


def test_the_ledger_survives_a_huge_page_and_refuses_a_nul_search(client, db):
    login(client, make_user(LEDGER_ROLES))
    assert client.get("/ledger/?page=99999999999999999999").status_code == 200
    assert client.get("/ledger/?page=-99999999999999999999").status_code == 200
    assert client.get("/ledger/?q=%00").status_code == 400
    assert client.get("/ledger/export.csv?q=%00").status_code == 400
    assert client.get("/ledger/?until=9999-12-31&since=0001-01-01").status_code == 200
    assert client.get("/instances?from=0001-01-01&to=9999-12-31").status_code == 200


@pytest.mark.parametrize("number", ["2147483648", "99999999999999999999"])
def test_integers_beyond_the_database_columns_are_not_found(client, db, number):
    login(client, make_user(["admin", "process_owner"]))
    assert client.get(f"/studio/processes/yq_incident/v{number}/yq_incident.bpmn").status_code == 404
    assert client.post(f"/admin/failures/{number}", data={"_action": "retry"}).status_code == 404
    assert client.get(f"/studio/processes/yq_incident/diff?old=1&new={number}").status_code == 404
    assert client.post("/admin/api-tokens", data={"_action": "revoke", "token_id": number}).status_code < 500


@pytest.fixture
def token(db) -> str:
    _row, clear = intake.issue_token("监测平台", make_user(["admin"]))
    return clear


ALERT = {"source_type": "platform_alert", "title": "网传某窗口推诿", "url": "https://weibo.com/2/1"}


def _post_json(client: Any, token: str, body: str | bytes) -> Any:
    return client.post("/api/v1/alerts", data=body, content_type="application/json",
                       headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("body", ["[" * DEEP + "]" * DEEP, '{"a":' * DEEP + "1" + "}" * DEEP,
                                  '{"title": NaN}', '{"title": "x\\ud800"}', '{"title": "x\\u0000"}'])
def test_the_lead_api_refuses_unreadable_json_with_400(client, db, token, body):
    before = _counts()
    response = _post_json(client, token, body)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json" and response.json["detail"]
    assert _counts() == before


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+08:00", "0001-01-01T00:00:00+14:00",
                                    "1999-12-31T23:59:59+08:00"])
def test_the_lead_api_refuses_times_out_of_range_per_field(client, db, token, moment):
    before = _counts()
    for key in ("published_at", "detected_at"):
        response = _post_json(client, token, json.dumps({**ALERT, key: moment}))
        assert response.status_code == 422
        assert [error["field"] for error in response.json["errors"]] == [key]
    assert _counts() == before
    assert _post_json(client, token, json.dumps({**ALERT, "published_at": T0})).status_code == 201


# -- generated: every query parameter of every page -----------------------------------------------------------------


def _query_names(app: Any, endpoint: str, url: str, pages: dict[str, tuple[list[Form], list[str]]]) -> set[str]:
    """The parameters a page reads: its filter forms, links to it with a query, and its module's source."""
    path = url.split("?", maxsplit=1)[0]
    names = {"zz_unknown"}
    for forms, links in pages.values():
        names |= {name for form in forms if form.method == "get" and (local_path(form.action) or "").split("?")[0]
                  == path for name in form.names}
        names |= {pair.split("=")[0] for link in links if (local_path(link) or "").split("?")[0] == path
                  and "?" in link for pair in link.split("?", 1)[1].split("&")}
    source = inspect.getsource(inspect.getmodule(app.view_functions[endpoint]))
    names |= set(re.findall(r'(?:args|values)(?:\.get|\.getlist)?\(\s*"(\w+)"', source))
    names |= set(re.findall(r'int_arg\(request\.(?:args|values), "(\w+)"', source))
    return names


def test_every_page_survives_hostile_query_parameters(app, db, fake_clock):
    world = build_world(app)
    urls = get_urls(world)
    missing = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods} - set(urls) - {"static"}
    assert missing == set(), "give these GET pages a URL in tests/web/hostile_world.py"
    pages = {}
    for url in urls.values():
        response = world.client.get(url, buffered=True)
        pages[url] = parse_page(response.get_data(as_text=True), url) if response.mimetype == "text/html" else ([], [])
    for endpoint, url in urls.items():
        names = sorted(_query_names(app, endpoint, url, pages))
        base = [tuple(pair.split("=", 1)) for pair in url.split("?", 1)[1:]]
        probe = Probe(world.client)
        for value in QUERY_CORPUS:
            status = probe.get(url.split("?", maxsplit=1)[0], base + [(name, value) for name in names])
            if "\x00" in value:
                assert status == 400, url
        _fuzz_query(probe, url.split("?", maxsplit=1)[0], names)


def _fuzz_query(probe: Probe, url: str, names: list[str]) -> None:
    @SETTINGS
    @given(st.lists(st.tuples(st.sampled_from(names) | hostile_name(), hostile_text()), min_size=1, max_size=4))
    def hostile_query(pairs: list[tuple[str, str]]) -> None:
        probe.get(url, pairs)

    hostile_query()


# -- generated: every field of every form ---------------------------------------------------------------------------


WALKS = [walk.name for walk in hostile_walks.walks(None)]


def test_the_walks_reach_every_form_of_forms():
    assert hostile_walks.all_forms() == set().union(*(walk.forms for walk in hostile_walks.walks(None)))


@pytest.mark.parametrize("name", WALKS)
def test_every_task_form_survives_hostile_fields(app, db, fake_clock, name):
    walk = next(w for w in hostile_walks.walks(fake_clock) if w.name == name)
    clients: dict[int, Any] = {}

    def visit(flow: Any, row: Any) -> None:
        if hostile_walks.form_of(row) not in walk.forms:
            return
        if flow.user.id not in clients:
            clients[flow.user.id] = app.test_client()
            login(clients[flow.user.id], flow.user)
        fuzz_task_form(app, clients[flow.user.id], flow, row)

    seen = hostile_walks.walk_through(walk, visit, clock=fake_clock)
    assert walk.forms <= seen, f"{name} did not reach {sorted(walk.forms - seen)}"


def test_every_other_form_survives_hostile_fields(app, db, fake_clock):
    world = build_world(app, full=True)
    urls = [*get_urls(world).values(), *world.extra]
    anonymous = app.test_client()
    endpoints = set()
    for client in (world.client, world.admin, anonymous):
        for page, form in rendered_forms(client, ["/login"] if client is anonymous else urls):
            if form.method == "post":
                endpoints.add(_endpoint(app, local_path(form.action) or page))
                fuzz_form(client, form, page)
    posted = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    # JSON and raw bodies, and the import report (reached by an upload): tests below and in test_studio_import.py
    direct = {"studio.save", "studio.preview_form", "studio.save_import"}
    api = {endpoint for endpoint in posted if endpoint.startswith("api_")}  # tests/api: schemathesis and bodies
    assert posted - endpoints - direct - api == set()


def _endpoint(app: Any, url: str) -> str:
    adapter = app.url_map.bind("localhost")
    return adapter.match(url.split("?", maxsplit=1)[0], method="POST")[0]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats() | hostile_text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(hostile_text(), children, max_size=3),
    max_leaves=8)
ALERT_FIELDS = ("source_type", "title", "url", "platform", "snippet", "published_at", "detected_at", "metrics",
                "external_ref", "author", "note")


def test_the_lead_api_survives_hostile_json(app, client, db, token):
    @SETTINGS
    @given(st.dictionaries(st.sampled_from(ALERT_FIELDS) | hostile_text(), JSON_VALUES, max_size=6) | JSON_VALUES)
    def hostile_alert(payload: Any) -> None:
        with rolled_back(client):
            before = fingerprint()
            body = json.dumps({**ALERT, **payload} if isinstance(payload, dict) else payload)
            response = _post_json(client, token, body)
            assert response.status_code in (200, 201) or 400 <= response.status_code < 500, short(body)
            if response.status_code >= 400:  # a valid token's call is audited and its last use noted
                assert changed_tables(before, ignore=frozenset({"api_token", "audit_event"})) == []

    hostile_alert()
    for moment in CORPUS:
        with rolled_back(client):
            status = _post_json(client, token, json.dumps({**ALERT, "detected_at": moment})).status_code
            assert status in (201, 400, 413, 422), short(moment)


def test_the_studio_editors_survive_hostile_bodies(app, client, db):
    owner = make_user(["process_owner"])
    assert client.post("/login", data={"username": owner.username, "password": PASSWORD}).status_code == 302

    @SETTINGS
    @given(JSON_VALUES, hostile_text())
    def hostile_editor(payload: Any, text: str) -> None:
        with rolled_back(client):
            before = fingerprint()
            preview = client.post("/studio/preview-form", data=json.dumps(payload), content_type="application/json")
            saved = client.post("/studio/files/ut_triage.schema.json/draft", data=text.encode("utf-8", "surrogatepass"),
                                content_type="text/plain; charset=utf-8")
            assert preview.status_code < 500 and saved.status_code < 500
            if saved.status_code >= 400 and preview.status_code >= 400:
                assert changed_tables(before) == []

    hostile_editor()
    assert post_form(client, "/studio/sandbox", [("process", "yq_dispatch"), ("data", "[" * DEEP)]).status_code == 422
