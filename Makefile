# Every target sets up what it needs from a clean clone: the virtual environment,
# the Python packages, and (for the tests) the Debian DNS servers.
#
# The environment is exactly requirements/dev-lock.txt (every package pinned, with
# its hashes), so a clean clone gets the versions the suite was last proven with.
# 'make lock' moves the lock to the newest versions pyproject.toml allows;
# 'make test-oldest' and 'make test-latest' run the suite at both ends of its ranges.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# uv installs the lock. It lives beside the packages, not among them: 'uv pip sync'
# leaves the environment holding exactly the lock, and would remove uv itself.
UV_DIR := $(VENV)/uv
UV     := $(UV_DIR)/bin/uv
# --no-config: a uv.toml of the machine or the user must not change what is installed.
UVPIP  := $(UV) --no-config pip
LOCK   ?= requirements/dev-lock.txt
STAMP  := $(VENV)/.installed
PYTEST_WORKERS ?= 2
# What the locks are made for: the lowest Python the project supports, every platform.
LOCK_FLAGS := --extra dev --generate-hashes --no-emit-package dnschaos
# make mutate: mutants drawn per module, seconds for the whole run, runs at once
# (the modules and their tests are in tools/mutate.toml).
MUTATE_ARGS ?= --sample 60 --budget 3600 --jobs 2

.PHONY: help venv node-actor dns-servers browser demo test test-oldest test-latest lock resolve \
	conformance-moto lint bench clean aws-rehearsal mutate docs fuzz-inputs

help:
	@echo "make demo   - set up, then run the incident-2025 scenario with both variants"
	@echo "make test   - set up (venv, packages, DNS servers, Chromium), then run the whole test suite"
	@echo "make lint   - ruff and mypy"
	@echo "make docs   - the documentation site, warnings as errors, into build/site"
	@echo "make bench  - benchmarks (results go to BENCHMARKS.md by hand)"
	@echo "make lock   - refresh requirements/*.txt to the newest versions pyproject.toml allows"
	@echo "make test-oldest - the test suite with the lowest versions pyproject.toml allows"
	@echo "make test-latest - the test suite with the newest versions pyproject.toml allows"
	@echo "make mutate - plant small bugs in the kernel modules (tools/mutate.toml); a score each"
	@echo "make fuzz-inputs - fuzz every input reader with FUZZ_EXAMPLES (50000) generated inputs each"
	@echo "make conformance-moto - the Route 53 conformance suite against plain moto"
	@echo "make aws-rehearsal - the --target aws code path against a loopback moto stand-in"

$(UV): requirements/uv.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps --upgrade --target $(UV_DIR) \
		-r requirements/uv.txt
	touch $(UV)

$(STAMP): $(LOCK) pyproject.toml $(UV)
	$(UVPIP) sync --quiet --python $(PY) --require-hashes $(LOCK)
	$(UVPIP) install --quiet --python $(PY) --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The AWS CLI (v1) that process actors run in the tests and examples: an environment of
# its own, since it pins a botocore of its own, exactly requirements/awscli-lock.txt.
AWSCLI_DIR := $(VENV)/awscli
AWSCLI_STAMP := $(AWSCLI_DIR)/.installed

$(AWSCLI_STAMP): requirements/awscli-lock.txt $(UV)
	test -x $(AWSCLI_DIR)/bin/python || $(PY) -m venv --without-pip $(AWSCLI_DIR)
	$(UVPIP) sync --quiet --python $(AWSCLI_DIR)/bin/python --require-hashes requirements/awscli-lock.txt
	touch $(AWSCLI_STAMP)

venv: $(STAMP) $(AWSCLI_STAMP)

# The JavaScript SDK for the Node.js process actor example, from the npm registry
# (package-lock.json); nothing when node is not installed.
NODE_DIR := examples/external/node

node-actor:
	@if command -v npm >/dev/null; then \
		cd $(NODE_DIR) && npm ci --no-audit --no-fund --ignore-scripts --silent; \
	else echo "node-actor: npm not found; the Node.js process actor test is skipped"; fi

lock: $(UV)
	$(UVPIP) compile --quiet --upgrade --universal --python-version 3.11 $(LOCK_FLAGS) \
		--custom-compile-command "make lock" -o requirements/dev-lock.txt pyproject.toml
	$(UVPIP) compile --quiet --upgrade --universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make lock" -o requirements/uv.txt requirements/uv.in
	$(UVPIP) compile --quiet --upgrade --universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make lock" -o requirements/awscli-lock.txt requirements/awscli.in

# The suite in an environment of its own (VENV), installed from a lock resolved now
# with RESOLUTION: highest (the newest of every range) or lowest-direct (the lowest
# version of each requirement pyproject.toml names).
test-latest:
	$(MAKE) VENV=.venv-latest LOCK=build/latest-lock.txt RESOLUTION=highest resolve test

test-oldest:
	$(MAKE) VENV=.venv-oldest LOCK=build/oldest-lock.txt RESOLUTION=lowest-direct resolve test

resolve: $(UV)
	@mkdir -p build
	$(UVPIP) compile --quiet --upgrade --resolution $(RESOLUTION) --python $(PY) $(LOCK_FLAGS) \
		-o $(LOCK) pyproject.toml
	@echo "== resolved with --resolution $(RESOLUTION): =="
	@grep -E '^(boto3|botocore|moto|dnspython|tenacity|rich|shtab|jsonschema|matplotlib|flask|distributed)==' $(LOCK) | sed 's/ .*//'

dns-servers:
	@bash .ci/install-dns-servers

browser:
	@bash .ci/install-chromium

demo: $(STAMP)
	@mkdir -p out
	@echo "== incident-2025 under the deterministic scheduler, variant legacy (expected: violation, exit 1) =="
	@$(VENV)/bin/dnschaos run incident-2025 --variant legacy --seed 7 --json out/legacy.json; echo "exit code: $$?"
	@echo
	@echo "== the same run, replayed from its recorded choices (expected: same trace_digest) =="
	@$(VENV)/bin/dnschaos replay out/legacy.json -q; echo "exit code: $$?"
	@echo
	@echo "== incident-2025, variant safe (expected: invariants hold, exit 0) =="
	@$(VENV)/bin/dnschaos run incident-2025 --variant safe --seed 7 --json out/safe.json; echo "exit code: $$?"
	@echo
	@echo "== incident-2025-dns: the race as clients see it, probes asking the embedded DNS server (expected: NODATA, exit 1) =="
	@$(VENV)/bin/dnschaos run incident-2025-dns --variant legacy --seed 4 --json out/dns.json; echo "exit code: $$?"
	@echo
	@echo "== cascade-2025: the race, DNS repaired by hand, then 15.5 hours of EC2 and NLB cascade in virtual time (expected: exit 1; phases beside 2025's) =="
	@$(VENV)/bin/dnschaos run cascade-2025 --json out/cascade.json --history out/cascade.jsonl; echo "exit code: $$?"
	@$(VENV)/bin/dnschaos report out/cascade.json --history out/cascade.jsonl -o out/cascade.html
	@echo
	@echo "More: 'dnschaos run incident-2025-scripted' tells the whole 2025 story step by step"
	@echo "(empty answers, then the wedge); see the README."

# The site from docs/ (mkdocs.yml); --strict: a warning (a broken link, a missing page,
# an API name that does not resolve) fails the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict -q -d build/site

test: $(STAMP) $(AWSCLI_STAMP) node-actor dns-servers browser
	@echo "== the documentation site, warnings as errors (its code blocks run in tests/docs) =="
	$(MAKE) docs
	@echo
	@echo "== Route 53 conformance against plain moto (its deviations are expected failures, listed) =="
	$(PY) -m pytest -q -p no:cacheprovider tests/conformance/route53 --against=moto
	@echo
	@echo "== the --target aws code path rehearsed against a loopback stand-in (recorded and replayed verdicts) =="
	PYTHONHASHSEED=0 $(PY) -m tests.integration.aws_rehearsal
	@echo
	@echo "== the test suite =="
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q

# The property-based fuzzing of every input reader, with more examples than the suite's
# 5,000 a reader (FUZZ_EXAMPLES=...).
FUZZ_EXAMPLES ?= 50000
fuzz-inputs: $(STAMP)
	DNSCHAOS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) tests/integration/test_fuzz_inputs.py

aws-rehearsal: $(STAMP)
	PYTHONHASHSEED=0 $(PY) -m tests.integration.aws_rehearsal

conformance-moto: $(STAMP)
	$(PY) -m pytest -q tests/conformance/route53 --against=moto -rx

bench: $(STAMP)
	@echo "== the fast path against DNSCHAOS_FAST=0: schedules/s (one core, CPU time) and CPU per call =="
	$(PY) bench/fast_path.py --runs 5
	@echo
	@echo "== judging: one decode of the history for every checker, against each reading it =="
	PYTHONHASHSEED=0 $(PY) bench/judging.py --samples 7
	PYTHONHASHSEED=0 $(PY) bench/judging.py --scenario steady-state --seed 3 --samples 7
	@echo
	@echo "== CPU a schedule against a baseline checkout (BASELINE=/path/to/checkout, with its venv) =="
	if [ -n "$(BASELINE)" ]; then \
	  $(PY) bench/against_baseline.py --baseline $(BASELINE)/.venv/bin/python --scenario incident-2025 --variant safe --pairs 5; \
	  $(PY) bench/against_baseline.py --baseline $(BASELINE)/.venv/bin/python --scenario steady-state --variant legacy --pairs 5; \
	else echo "skipped: set BASELINE (git worktree add /tmp/base REV && make -C /tmp/base venv)"; fi
	@echo
	@echo "== scheduler overhead per AWS call (5 samples each, alternating) =="
	$(PY) bench/scheduler_overhead.py --runs 7 --calls 300
	@echo
	@echo "== the gate: per-request cost of a process actor against an in-process call =="
	taskset -c 0 $(PY) bench/gate_cost.py --runs 5 --calls 200
	@echo
	@echo "== incident-2025 throughput and the 100-seed check, one core =="
	$(PY) bench/incident_throughput.py --seeds 1-100
	@echo
	@echo "== fuzzing steady-state: time to first violation (vs free threads), schedules/s, safe =="
	$(PY) bench/fuzz_campaigns.py ttv --campaigns 10 --budget 60 --json out/bench-ttv.json
	$(PY) bench/fuzz_campaigns.py rate --runs 20 --json out/bench-rate.json
	$(PY) bench/fuzz_campaigns.py safe --runs 2000 --workers 2 --json out/bench-safe.json
	@echo
	@echo "== fuzz --budget 60s: the whole command's wall time against its budget =="
	$(PY) bench/fuzz_budget.py --runs 5 --budget 60s
	@echo
	@echo "== a failing campaign's parent memory: after 2,000 runs against after 100 =="
	$(PY) bench/campaign_memory.py --runs 100,2000 --repeats 5 --json out/bench-campaign-memory.json
	@echo
	@echo "== cascade-2025: the whole 15.5-hour event on one core =="
	$(PY) bench/cascade_event.py --runs 5 --json out/bench-cascade.json
	@echo
	@echo "== search strategies side by side: spin-model and steady-state, 10 campaign seeds each =="
	$(PY) bench/strategies.py first --campaigns 10 --json out/bench-strategies-first.json
	$(PY) bench/strategies.py coverage --campaigns 10 --seconds 30 --json out/bench-strategies-coverage.json
	@echo
	@echo "== explore and dfs with their reductions and without (spin-model; a small simulation) =="
	PYTHONHASHSEED=0 $(PY) bench/explore_reduction.py explore --runs 5 --json out/bench-explore.json
	PYTHONHASHSEED=0 $(PY) bench/explore_reduction.py size --max-schedules 820 --json out/bench-explore-size.json
	PYTHONHASHSEED=0 $(PY) bench/explore_reduction.py dfs --runs 5 --json out/bench-explore-dfs.json
	@echo
	@echo "== fuzz campaigns on a loopback Dask cluster: 1, 2 and 4 workers =="
	$(PY) bench/cluster_scaling.py --workers 1,2,4 --cases 8 --runs 5 --json out/bench-cluster.json
	PYTHONHASHSEED=0 $(PY) bench/cluster_overhead.py --cases 8 --runs 10 --json out/bench-cluster-overhead.json
	@echo
	@echo "== peak RSS against virtual duration: 16 endpoints, 12 enactors, 1 h and 24 h, 5 times =="
	$(PY) bench/memory_growth.py --hours 1,24 --repeats 5 --json out/bench-memory.json

mutate: $(STAMP)
	$(PY) tools/mutate.py $(MUTATE_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check harness adapters faults fixtures tests bench examples tools
	$(VENV)/bin/ruff format --check harness adapters faults fixtures tests bench examples tools
	@bash .ci/typecheck-tree
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy tools

clean:
	rm -rf $(VENV) .venv-oldest .venv-latest build/*-lock.txt .pytest_cache .mypy_cache \
		.ruff_cache *.egg-info
