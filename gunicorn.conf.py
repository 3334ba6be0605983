"""gunicorn settings for the web nodes (docker-compose.yml and scripts/stack.sh use them).

With YQ_WORKER=embedded (a single node without Celery) each gunicorn worker starts the embedded
worker thread after it boots; the database lease lets only one of them run it at a time.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = 60
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    app = worker.wsgi
    if getattr(app, "config", {}).get("WORKER") == "embedded":
        from app.jobs import embedded

        embedded.start(app)
