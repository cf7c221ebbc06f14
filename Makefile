# Cổng khuyến công — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Tests run in parallel (pytest-xdist); override with `make test PYTEST_ARGS="-n 0 -k name"`.
PYTEST_ARGS ?= -n auto

.PHONY: run test bench venv deps deps-dev migrate setup demo lint messages clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.deps: $(BIN)/activate requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.deps-dev: $(VENV)/.deps requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

venv deps: $(VENV)/.deps
deps-dev: $(VENV)/.deps-dev

migrate: deps
	$(PY) manage.py migrate --noinput

setup: migrate
	$(PY) manage.py compilemessages --ignore=.venv -v0 || true
	$(PY) manage.py load_reference
	$(PY) manage.py load_demo

run: setup
	@echo "Cổng khuyến công: http://$(HOST):$(PORT)/  (Ctrl+C để dừng)"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: deps-dev
	$(BIN)/pytest $(PYTEST_ARGS)

bench: deps-dev
	$(PY) bench/run.py

lint: deps-dev
	$(BIN)/ruff check .

messages: deps
	$(PY) manage.py makemessages -l en --ignore=.venv && $(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles test-output
