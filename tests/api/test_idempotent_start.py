"""Eight identical requests with one Idempotency-Key at the same moment start one instance; all eight get it
(on SQLite and, with YQ_TEST_BACKEND=postgresql, on PostgreSQL)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from app.extensions import db
from app.models import ApiIdempotency, Incident, ProcessInstance
from app.operations import api_tokens

CLIENTS = 8


def _race(app, token, key):
    barrier = threading.Barrier(CLIENTS)
    results = [None] * CLIENTS

    def call(index):
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/processes/yq_incident/instances",
                               headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
        results[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=call, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return results


def test_eight_concurrent_identical_starts_make_one_instance(committed_app):
    app = committed_app
    with app.app_context():
        _row, token = api_tokens.issue_token("并发平台", None, scopes=["instances:start"], roles=["monitor"],
                                             rate_per_minute=1000)
    for key in ("same-lead-1", "same-lead-2"):
        results = _race(app, token, key)
        codes = sorted(code for code, _ in results)
        assert codes == [200] * (CLIENTS - 1) + [201], results
        assert len({body["id"] for _, body in results}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == 2
        assert db.session.scalar(select(func.count()).select_from(Incident)) == 2
        assert db.session.scalar(select(func.count()).select_from(ApiIdempotency)) == 2
