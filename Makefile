# Two commands: `make run` (set up and start everything) and `make test` (set up and test everything).
# Without DATABASE_URL / REDIS_URL both use embedded PostgreSQL and Redis from PyPI wheels.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
PORT   ?= 8000
# Links in mail; the web port is fixed here, whatever PORT a process is handed.
SITE_URL ?= http://127.0.0.1:$(PORT)
export PATH := $(BIN):$(PATH)
export PORT SITE_URL

.PHONY: help install run serve serve-app test lint format chromium dovecot bench stop status clean

help:
	@echo "make run    - install, migrate, load demo data and start web + Celery worker + beat on http://127.0.0.1:$(PORT)/"
	@echo "make test   - install, then ruff, mypy and the whole pytest suite (browser tests included)"
	@echo "make bench  - seed large data and print benchmark figures"
	@echo "make stop   - stop the embedded PostgreSQL and Redis if something left them running"

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]' \
		|| { echo "Python 3.11 is required: install it or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

run: install
	@$(BIN)/python -m helpdesk.embedded run -- $(MAKE) --no-print-directory serve

# Called by `run` with DATABASE_URL and REDIS_URL set; not meant to be called directly.
# DATABASE_URL is the schema owner's: it migrates and grants the least-privilege role
# (DATABASE_APP_ROLE, default helpdesk_app); everything after that connects as that role.
serve:
	python manage.py migrate --noinput
	python manage.py collectstatic --noinput --verbosity 0
	@url="$$(python manage.py setup_app_role --print-url)" && DATABASE_URL="$$url" $(MAKE) --no-print-directory serve-app

# Called by `serve` with DATABASE_URL set to the application role; not meant to be called directly.
serve-app:
	python manage.py seed_demo
	python manage.py seed_kb
	@echo ""
	@echo "  Helpdesk is starting on http://127.0.0.1:$(PORT)/  (Ctrl-C stops everything)"
	@echo ""
	python -m helpdesk.supervisor --procfile Procfile

chromium:
	@bash scripts/ensure-chromium.sh

# The e-mail tests poll a real IMAP server: Debian's dovecot, started unprivileged by the tests.
dovecot:
	@bash scripts/ensure-debian-package.sh dovecot-imapd /usr/sbin/dovecot

lint: install
	ruff check .
	ruff format --check .
	mypy

format: install
	ruff check --fix .
	ruff format .

test: install chromium dovecot lint
	python -m pytest

bench: install
	@bash scripts/ensure-debian-package.sh wrk wrk
	@$(BIN)/python -m helpdesk.embedded run -- sh -c "python manage.py collectstatic --noinput --verbosity 0 && python -m bench $(BENCH_ARGS)"

stop: install
	python -m helpdesk.embedded stop

status: install
	python -m helpdesk.embedded status

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
