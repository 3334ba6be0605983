"""Schemathesis against /api/v1/openapi.json: generated requests (bounded, derandomized) to every operation
must never get a 5xx, and every answer must match the document (status code, content type, schema).

Schemathesis's "schema-valid data is accepted" check is left out: a cursor must be one the API issued and a
form's data must pass the form's own rules, which the document cannot say; such refusals are 422 problems,
documented and checked like every other answer. The links between operations are followed by schemathesis's
state machine in test_stateful.py."""

from __future__ import annotations

from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.operations import api_tokens, starts
from tests.api.conftest import ALL_SCOPES
from tests.api.test_resources import _register

EXAMPLES = 30


def test_every_operation_answers_as_documented(app, db):
    _row, token = api_tokens.issue_token("schemathesis", None, scopes=ALL_SCOPES, roles=["admin"],
                                         rate_per_minute=api_tokens.MAX_RATE)
    headers = {"Authorization": f"Bearer {token}"}
    starts.start_process("yq_incident", _row.user)  # lists and their items are checked with something in them
    seen: Counter[tuple[str, int]] = Counter()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:
        try:
            _checker(operation, headers, seen)()
        except Exception as exc:
            raise AssertionError(f"{operation.label}: {exc}") from exc
    # the token was accepted and the generator reached both answers and refusals
    assert seen["GET /api/v1/processes", 2] and seen["GET /api/v1/instances", 2] and seen["GET /api/v1/tasks", 2]
    assert seen["GET /api/v1/incidents", 2] and seen["POST /api/v1/messages/{name}", 4]
    assert seen["GET /api/v1/incidents/{number}/documents/{kind}", 4]
    assert not any(kind == 5 for _label, kind in seen), seen


def test_a_documents_real_answers_match_the_document(app, api, db):
    """Generated numbers find no incident, so the documents' answers with content (the list, a new version,
    the .docx bytes, a missing fact) are checked here against the same document, for a real incident."""
    headers = {"Authorization": f"Bearer {api(['admin']).token}"}
    number = _register(api(["monitor"]))["incident_number"]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    path = "/api/v1/incidents/{number}/documents"
    answers = []
    for method, url, kind, query in (("POST", f"{path}/{{kind}}", "quick_report", None),
                                     ("POST", f"{path}/{{kind}}", "release", None), ("GET", path, None, None),
                                     ("GET", f"{path}/{{kind}}", "quick_report", {"version": 1}),
                                     ("GET", f"{path}/{{kind}}", "case_file", None)):
        operation = schema.find_operation_by_path(method, url)
        params = {"number": number, **({"kind": kind} if kind else {})}
        case = operation.Case(path_parameters=params, query=query)
        answers.append(case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance]))
    assert [answer.status_code for answer in answers] == [201, 422, 200, 200, 404]
    assert answers[3].headers["content-type"][0].endswith("wordprocessingml.document")


def _checker(operation, headers, seen):
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        response = case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
        seen[operation.label, response.status_code // 100] += 1

    return check
