# stepmap: two commands on a fresh machine with only Python >= 3.11.
#   make demo   set up (venv + install) and run the Distributed Map demo on an embedded local stack
#   make test   set up and run the whole test suite (import contracts, mypy, pytest)
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test unit lint ci-deps bench clean

# pytest processes of `make test`: test files are spread over them, one file per process at a
# time (each e2e file starts its own stack on free loopback ports, so files run side by side).
TEST_PROCESSES ?= 2

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python >= 3.11 is required" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/stepmap demo

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m mypy --strict orchestrator workers bench

# System packages of the browser tests (skipped when present).
ci-deps:
	bash scripts/ci-deps.sh

test: lint ci-deps
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist loadfile; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info
