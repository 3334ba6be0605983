"""The app as gunicorn serves it, for the benchmarks only: each response carries what it cost the server.

    gunicorn --config gunicorn.conf.py bench.wsgi:app

Configuration comes from the environment as in production (YQ_DATABASE_URL …); login rate limiting is
off (a benchmark logs in many people from one address). Two response headers are added:
`X-Bench-Statements` (SQL statements this request sent, counted by a SQLAlchemy event listener on the
request's thread) and `X-Bench-CPU-us` (CPU time of the request's thread, microseconds).
YQ_BENCH_FULL_STATE=1 stores states without compaction (to compare). YQ_BENCH_PROFILE=DIR profiles every
task completion (a POST whose `X-Bench-Action` header says `complete`) with cProfile on its thread and
keeps each worker's sum in DIR/completion.<pid>.prof (bench/incident_path.py --profile merges them).
Nothing here is imported by the application.
"""

from __future__ import annotations

import cProfile
import os
import pstats
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


_PROFILE_DIR = os.environ.get("YQ_BENCH_PROFILE", "")
_profile_lock = threading.Lock()
_profiled: list[pstats.Stats] = []


def _profiled_call(call):
    """Run `call()` under cProfile (this thread only) and add its figures to this worker's file."""
    profiler = cProfile.Profile()
    try:
        return profiler.runcall(call)
    finally:
        with _profile_lock:
            if _profiled:
                _profiled[0].add(profiler)
            else:
                _profiled.append(pstats.Stats(profiler))
            _profiled[0].dump_stats(os.path.join(_PROFILE_DIR, f"completion.{os.getpid()}.prof"))


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

        if _PROFILE_DIR and environ.get("HTTP_X_BENCH_ACTION") == "complete":
            return _profiled_call(lambda: _drained(self.wsgi_app(environ, costed)))
        return self.wsgi_app(environ, costed)


def _drained(result) -> list[bytes]:
    try:
        return list(result)
    finally:
        if hasattr(result, "close"):
            result.close()


app.wsgi_app = _Costs(app.wsgi_app)
