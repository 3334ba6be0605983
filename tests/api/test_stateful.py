"""Schemathesis's stateful mode: its state machine starts from the operations that make or list things and
follows the links of /api/v1/openapi.json with the ids the server answered (start an instance → read it →
its tasks → a task → claim → complete / unclaim; suspend → resume → terminate). Bounded (25 scenarios of up
to 10 calls, derandomized) and limited to processes, instances and tasks, whose links chain; the rest is
covered statelessly by test_schemathesis.py. Every answer must match the document and none may be a 5xx."""

from __future__ import annotations

from collections import Counter

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.operations import api_tokens
from tests.api.conftest import ALL_SCOPES

SCENARIOS = 25
STEPS = 10


def test_the_state_machine_follows_the_links_without_a_5xx_or_a_schema_violation(app, db):
    _row, token = api_tokens.issue_token("stateful", None, scopes=ALL_SCOPES,
                                         roles=["admin", "monitor", "office_staff"],
                                         rate_per_minute=api_tokens.MAX_RATE)
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app).include(
        path_regex="^/api/v1/(processes|instances|tasks)")
    seen: Counter[tuple[str, int]] = Counter()

    connection = db.session.get_bind()
    rolled_back: list[bool] = []

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        # Each scenario starts from the same database: what one scenario made is rolled back before the
        # next, so Hypothesis, replaying a scenario, meets the server state it met the first time.
        def setup(self):
            self.scenario = connection.begin_nested()

        def teardown(self):
            rolled_back.append(self.scenario.is_active)
            if self.scenario.is_active:
                self.scenario.rollback()
            db.session.expire_all()

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            seen[case.operation.label, response.status_code // 100] += 1
            # as in test_schemathesis.py: a form's own rules are more than the document can say
            case.validate_response(response, excluded_checks=[positive_data_acceptance],
                                   headers=kwargs.get("headers"), transport_kwargs=kwargs)

    Machine.run(settings=settings(max_examples=SCENARIOS, stateful_step_count=STEPS, derandomize=True, deadline=None,
                                  database=None, suppress_health_check=list(HealthCheck)))
    assert not any(kind == 5 for _label, kind in seen), seen
    assert rolled_back and all(rolled_back), rolled_back  # every scenario started from the same database
    # links were followed with real ids (a generated id finds nothing): instances read back or suspended,
    # tasks opened or claimed
    followed = {label for label, kind in seen if kind == 2 and "_id}" in label}
    assert len(followed) >= 3 and any("/tasks/" in label for label in followed), seen


def test_the_links_name_operations_and_fields_that_exist(app):
    """Every link's operationRef resolves, and each `$response.body#/…` pointer names a property of the
    answer's schema (a renamed field would silently end the chain otherwise)."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    schemas = document["components"]["schemas"]
    count = 0
    for operations in paths.values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                body = response.get("content", {}).get("application/json", {}).get("schema")
                for name, link in response.get("links", {}).items():
                    count += 1
                    _hash, _paths, path, method = link["operationRef"].split("/")
                    item = paths[path.replace("~1", "/").replace("~0", "~")]
                    declared = {p["name"] for p in [*item.get("parameters", []), *item[method].get("parameters", [])]}
                    for parameter, expression in link["parameters"].items():
                        assert parameter in declared, (name, parameter)
                        if expression.startswith("$response.body#/"):
                            assert _resolves(body, expression.split("#/")[1].split("/"), schemas), (name, expression)
    assert count >= 30


def _resolves(schema, steps, schemas) -> bool:
    def deref(node):
        return schemas[node["$ref"].rsplit("/", 1)[1]] if isinstance(node, dict) and "$ref" in node else node

    for step in steps:
        if schema is None:
            return False
        options = [deref(schema), *(deref(o) for o in deref(schema).get("anyOf", []) + deref(schema).get("oneOf", []))]
        key = "items" if step.isdigit() else None
        schema = next((o["items"] if key else o["properties"][step] for o in options
                       if isinstance(o, dict) and (key in o if key else step in o.get("properties", {}))), None)
    return schema is not None
