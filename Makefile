# The README's two commands: `make run` and `make test`. Everything else is a step they use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
YUQING := $(VENV)/bin/yuqing
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
# pytest-xdist workers per pass (`auto`: one per core); PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= auto
PYTEST := $(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal

.PHONY: run test install assets translations db lint bench clean stack stack-stop browser documents

run: install assets translations db
	$(YUQING) serve --host $(HOST) --port $(PORT)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js) is required for the front-end assets"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error

assets: install node_modules/.package-lock.json
	$(PY) tools/copy_assets.py

translations: install
	$(VENV)/bin/pybabel compile -d app/translations > /dev/null

db: install translations
	mkdir -p instance
	$(YUQING) init-db
	$(YUQING) deploy --note "make run"
	$(YUQING) seed-demo

# Browser tests use Debian's Chromium through Playwright (`playwright install` cannot download here).
browser:
	@scripts/ensure_chromium.sh

# The document tests convert every generated .docx to PDF with Debian's LibreOffice (headless Writer).
documents:
	@scripts/ensure_libreoffice.sh

lint: install
	$(VENV)/bin/ruff check app tests bench tools
	$(VENV)/bin/lint-imports

# Both passes always run (a failure on SQLite must not hide one on PostgreSQL); the target fails if
# either did. Any non-zero pytest status is a failure, 5 ("no tests collected") included.
# Each pass spreads its tests over the cores (pytest-xdist; each worker has its own database).
# PYTEST_ARGS narrows a run, e.g. make test PYTEST_ARGS=tests/jobs
test: install assets translations lint browser documents
	@sqlite=0; postgresql=skipped; \
	echo "--- tests on SQLite"; \
	YQ_TEST_BACKEND=sqlite $(PYTEST) $(PYTEST_ARGS) || sqlite=$$?; \
	if [ -n "$$TEST_DATABASE_URL" ]; then \
		postgresql=0; \
		echo "--- again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		YQ_TEST_BACKEND=postgresql $(PYTEST) $(PYTEST_ARGS) || postgresql=$$?; \
	fi; \
	echo "--- pytest exit status: SQLite $$sqlite, PostgreSQL $$postgresql"; \
	[ "$$sqlite" = 0 ] && { [ "$$postgresql" = 0 ] || [ "$$postgresql" = skipped ]; }

# Whole incidents over HTTP against gunicorn on SQLite and PostgreSQL, then single completions (page, API),
# timers and the worklist (BENCH_DATABASE_URL names the server to create a throw-away database on);
# see bench/README.md for how to read the output.
bench: install translations
	$(PY) bench/incident_path.py
	$(PY) bench/complete_task.py
	$(PY) bench/api.py
	$(PY) bench/timers.py
	$(PY) bench/worklist.py

stack: install assets translations
	scripts/stack.sh start

stack-stop:
	scripts/stack.sh stop

clean:
	rm -rf $(VENV) node_modules app/static/vendor instance .pytest_cache .ruff_cache
