# Cổng khuyến công — the two commands a newcomer needs: `make run` and `make test`.
#
#   make run    create .venv, install requirements.txt, migrate, compile messages, load reference and
#               demo data (prints the demo accounts), serve http://$(HOST):$(PORT)/. Safe to re-run.
#   make test   install requirements-dev.txt too, then run the whole suite with pytest-xdist
#               (on $$DATABASE_URL when set, else an in-memory SQLite test database).
#   make bench  run every bench/bench_*.py and print their `name: value unit` lines.
#
# Variables: PYTHON (default python3), PORT (8000), HOST (127.0.0.1), PYTEST_ARGS (-n auto).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Tests run in parallel (pytest-xdist); override with `make test PYTEST_ARGS="-n 0 -k name"`.
PYTEST_ARGS ?= -n auto

export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Playwright drives Debian's /usr/bin/chromium (see tests/conftest.py); never download browsers.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run test bench venv deps deps-dev migrate compilemessages setup demo lint messages check clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Stamp files: pip runs again only when a requirements file changes.
$(VENV)/.deps: requirements.txt | $(PY)
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.deps-dev: $(VENV)/.deps requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(PY)
deps: $(VENV)/.deps
deps-dev: $(VENV)/.deps-dev

# The source strings are Vietnamese; locale/en holds the English catalogue. msgfmt comes from
# Debian's gettext package; without it the portal still runs, in Vietnamese only.
compilemessages: deps
	@if [ -z "$$(find . -path ./$(VENV) -prune -o -name '*.po' -print | head -n 1)" ]; then \
		echo "compilemessages: no .po catalogue yet"; \
	elif command -v msgfmt >/dev/null 2>&1; then \
		$(PY) manage.py compilemessages --ignore=$(VENV) --ignore=node_modules -v0; \
	else \
		echo "Cảnh báo: không có msgfmt (apt-get install gettext) — bỏ qua biên dịch bản dịch tiếng Anh." >&2; \
	fi

migrate: deps
	$(PY) manage.py migrate --noinput

setup: migrate compilemessages
	$(PY) manage.py load_reference
	$(PY) manage.py load_demo

demo: setup

run: setup
	@echo "Cổng khuyến công: http://$(HOST):$(PORT)/  (Ctrl+C để dừng)"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: deps-dev compilemessages
	$(BIN)/pytest $(PYTEST_ARGS)

bench: deps-dev
	$(PY) bench/run.py

lint: deps-dev
	$(BIN)/ruff check .

check: deps
	$(PY) manage.py check

messages: deps
	$(PY) manage.py makemessages -l en --ignore=$(VENV) --ignore=node_modules --ignore=tests && $(MAKE) compilemessages

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles test-output
