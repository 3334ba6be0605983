"""The app as gunicorn serves it, for the benchmarks only: each response carries what it cost the server.

    gunicorn --config gunicorn.conf.py bench.wsgi:app

Configuration comes from the environment as in production (YQ_DATABASE_URL …); login rate limiting is
off (a benchmark logs in many people from one address). Two response headers are added:
`X-Bench-Statements` (SQL statements this request sent, counted by a SQLAlchemy event listener on the
request's thread) and `X-Bench-CPU-us` (CPU time of the request's thread, microseconds).
YQ_BENCH_FULL_STATE=1 stores states without compaction (to compare). Nothing here is imported by the
application.
"""

from __future__ import annotations

import os
import threading
import time

from sqlalchemy import event

from app import create_app
from app.extensions import db

app = create_app({"RATELIMIT_ENABLED": False})
if os.environ.get("YQ_BENCH_FULL_STATE"):  # measure the state as SpiffWorkflow keeps it (no compaction)
    from app.engine import runner, state

    runner.dump_state = state.dump_full_state
_counter = threading.local()
_TOKEN = os.environ.get("YQ_BENCH_TOKEN", "")


def _count(*_args: object) -> None:
    _counter.n = getattr(_counter, "n", 0) + 1


with app.app_context():
    event.listen(db.engine, "before_cursor_execute", _count)


class _Costs:
    """WSGI middleware: counts from the first byte of the request to the response's headers."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        _counter.n = 0
        cpu = time.thread_time_ns()

        def costed(status, headers, exc_info=None):
            headers = [*headers, ("X-Bench-Server", _TOKEN), ("X-Bench-Statements", str(_counter.n)),
                       ("X-Bench-CPU-us", str((time.thread_time_ns() - cpu) // 1000))]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, costed)


app.wsgi_app = _Costs(app.wsgi_app)
