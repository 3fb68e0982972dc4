# Development and test entry points; see README.md.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wxapp_backend:create_app

.PHONY: run test test-python test-postgres test-miniprogram demo record-api venv clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 $(PYTHON)（Python 3.11）"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

## Start Redis, migrate SQLite, load demo data, run web, worker, scheduler and sandbox.
run: venv
	$(BIN)/python scripts/devstack.py

## Replay the whole story through the HTTP API against the running stack.
demo: venv
	$(BIN)/python scripts/demo_story.py

## Every test: Python on SQLite, again on PostgreSQL, then the mini-program.
test: test-python test-postgres test-miniprogram

test-python: venv
	$(BIN)/python -m pytest -q

test-postgres: venv
	@url="$$(scripts/start_postgres.sh)"; \
	if [ -z "$$url" ]; then \
	  echo "PostgreSQL is not installed: skipping the PostgreSQL run (CI installs it)"; \
	else \
	  echo "running the suite on $$url"; \
	  TEST_DATABASE_URL="$$url" $(BIN)/python -m pytest -q -m "not sqlite_only"; \
	fi

test-miniprogram:
	cd miniprogram && npm ci --no-audit --no-fund --silent && npm test --silent

## Re-record the API responses the mini-program tests replay.
record-api: venv
	RECORD_API_FIXTURES=1 $(BIN)/python -m pytest -q tests/miniprogram/test_record_api.py

clean:
	rm -rf $(VENV) instance test-output miniprogram/node_modules
