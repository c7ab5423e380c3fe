# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install install-test lint bench clean example-card hardening fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

# Install and start the app, with the vault in its default place.
run: install
	$(BIN)/securesubmit

# Install and run the whole test suite, then the linters and the type checker.
test: install-test
	$(BIN)/python -m pytest
	$(BIN)/ruff check securesubmit tests benchmarks
	$(BIN)/mypy --strict securesubmit

# Speed and memory against the age CLI, measured in the same run (about 8 minutes).
bench: install-test
	@command -v age >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get install -y age; else echo "error: the age CLI is needed (sudo apt-get install age)" >&2; exit 1; fi; }
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

# Regenerate the TEST-ONLY example partner card in keys/ (its secret key is public).
example-card: install
	$(BIN)/python scripts/make_example_card.py

# Long attack, fault and fuzz suites (issue 11), about 13 minutes here; prints a summary
# table. atheris is optional: without it the fuzzer falls back to plain mutations.
hardening: install-test
	-$(BIN)/pip install --quiet atheris
	$(BIN)/python -m tests.security.hardening --out build/hardening
	SECURESUBMIT_BIG_ATTACHMENT_MIB=4096 $(BIN)/python -m pytest -q tests/unit/test_attachments.py -k big

# Fuzz every parser for a bounded time (about 18 minutes here).
fuzz: install-test
	-$(BIN)/pip install --quiet atheris
	$(BIN)/python -m tests.security.fuzz --seconds 1500 --budget-minutes 27 --jobs 2 --out build/fuzz
