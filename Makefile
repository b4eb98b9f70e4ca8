# Every target sets up what it needs from a clean clone: the virtual environment,
# the Python packages, and (for the tests) the Debian DNS servers.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: help venv dns-servers demo test conformance-moto lint bench clean

help:
	@echo "make demo   - set up, then run the incident-2025 scenario with both variants"
	@echo "make test   - set up (venv, packages, DNS servers), then run the whole test suite"
	@echo "make lint   - ruff and mypy"
	@echo "make conformance-moto - the Route 53 conformance suite against plain moto"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

dns-servers:
	@bash .ci/install-dns-servers

demo: $(STAMP)
	@echo "== incident-2025, variant legacy (expected: violation, exit 1) =="
	@$(VENV)/bin/dnschaos run incident-2025 --variant legacy; echo "exit code: $$?"
	@echo
	@echo "== incident-2025, variant safe (expected: invariants hold, exit 0) =="
	@$(VENV)/bin/dnschaos run incident-2025 --variant safe; echo "exit code: $$?"

test: $(STAMP) dns-servers
	@echo "== Route 53 conformance against plain moto (its deviations are expected failures, listed) =="
	$(PY) -m pytest -q -p no:cacheprovider tests/conformance/route53 --against=moto
	@echo
	@echo "== the test suite =="
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q

conformance-moto: $(STAMP)
	$(PY) -m pytest -q tests/conformance/route53 --against=moto -rx

lint: $(STAMP)
	$(VENV)/bin/ruff check harness adapters tests
	$(VENV)/bin/ruff format --check harness adapters tests
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
