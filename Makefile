# MadeInPK: `make run` serves the whole site on embedded defaults; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# The local Stripe emulator (stripe_emulator/) that `make run` starts and points the site at.
STRIPE_EMULATOR_PORT ?= 12111
# The local JazzCash emulator (jazzcash_emulator/), started and used the same way.
JAZZCASH_EMULATOR_PORT ?= 12121
# The local courier emulator (courier_emulator/, PostEx's shape) that `make run` books parcels with.
COURIER_EMULATOR_PORT ?= 12131
export DJANGO_SETTINGS_MODULE := madeinpk.settings

.PHONY: run setup test test-fast bench soak lint fmt check clean messages

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py setup_schedules
	DEBUG=$${DEBUG:-1} $(PY) manage.py load_demo

# Web server (Daphne), scheduler (django-q2) and the Stripe emulator together, from Procfile.dev.
# STRIPE_API_BASE= (set but empty) talks to real Stripe instead: see DEVELOPERS.md.
# Static files collected with hashed names and gzip/brotli copies, as in production; again
# only when something under static/ changed (compressing takes a while).
STATIC_MANIFEST := staticfiles/staticfiles.json
$(STATIC_MANIFEST): $(STAMP) $(shell find static -type f)
	STATIC_FROM_SOURCE=0 $(PY) manage.py collectstatic --noinput --verbosity 0

run: setup $(STATIC_MANIFEST)
	@echo
	@echo "  MadeInPK is starting on http://$(HOST):$(PORT)/   (Ctrl-C stops everything)"
	@echo
	DEBUG=$${DEBUG:-1} STATIC_FROM_SOURCE=$${STATIC_FROM_SOURCE:-0} \
	HOST=$(HOST) PORT=$(PORT) SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} \
	STRIPE_API_BASE=$${STRIPE_API_BASE-http://127.0.0.1:$(STRIPE_EMULATOR_PORT)} \
	STRIPE_WEBHOOK_SECRET=$${STRIPE_WEBHOOK_SECRET:-whsec_local_emulator} \
	STRIPE_EMULATOR_PORT=$(STRIPE_EMULATOR_PORT) \
	STRIPE_EMULATOR_WEBHOOK_URL=http://$(HOST):$(PORT)/stripe/webhook/ \
	JAZZCASH_BASE_URL=$${JAZZCASH_BASE_URL-http://127.0.0.1:$(JAZZCASH_EMULATOR_PORT)} \
	JAZZCASH_MERCHANT_ID=$${JAZZCASH_MERCHANT_ID:-MC00001} \
	JAZZCASH_PASSWORD=$${JAZZCASH_PASSWORD:-emulator} \
	JAZZCASH_INTEGRITY_SALT=$${JAZZCASH_INTEGRITY_SALT:-emulatorsalt} \
	JAZZCASH_EMULATOR_PORT=$(JAZZCASH_EMULATOR_PORT) \
	JAZZCASH_EMULATOR_IPN_URL=http://$(HOST):$(PORT)/payments/jazzcash/ipn/ \
	COURIER_API_BASE=$${COURIER_API_BASE-http://127.0.0.1:$(COURIER_EMULATOR_PORT)} \
	COURIER_API_TOKEN=$${COURIER_API_TOKEN:-local-emulator-token} \
	COURIER_WEBHOOK_SECRET=$${COURIER_WEBHOOK_SECRET:-local-courier-secret} \
	COURIER_EMULATOR_PORT=$(COURIER_EMULATOR_PORT) \
	COURIER_EMULATOR_CALLBACK_URL=http://$(HOST):$(PORT)/couriers/postex/callback/ \
	$(VENV)/bin/honcho -f Procfile.dev start

test: $(STAMP)
	$(PY) -m ruff check .
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not browser" -x -q

# PostgreSQL only: DATABASE_URL if set, else a throwaway PostgreSQL + Redis (scripts/bench.sh).
bench: $(STAMP)
	PY=$(PY) bash scripts/bench.sh $(BENCH_ARGS)

# Two Daphnes, a qcluster, PostgreSQL (max_connections 40) and Redis under load, each restarted
# once (scripts/soak.sh, then python -m soak; about two minutes). CI runs it after `make test`.
soak: $(STAMP)
	PY=$(PY) bash scripts/soak.sh

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

fmt: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) db.sqlite3* media staticfiles .stripe-emulator.json .courier-emulator.json

# Refresh locale/ur/LC_MESSAGES/django.po from the source and compile it (README "Languages").
# marketplace/tests/test_i18n.py runs the same extraction, so keep the options in step.
MAKEMESSAGES_OPTIONS := --add-location=file --no-obsolete --ignore=.venv --ignore=stripe_emulator --ignore=jazzcash_emulator --ignore=courier_emulator --ignore=emulator_base \
	--ignore=benchmarks --ignore=staticfiles --ignore=static --ignore=node_modules \
	--ignore=test-artifacts --ignore=marketplace/tests --ignore=docs --ignore=scripts
messages: $(STAMP)
	$(PY) manage.py makemessages -l ur $(MAKEMESSAGES_OPTIONS)
	$(PY) manage.py compilemessages -l ur --ignore=.venv
