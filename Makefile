# Facteur — the two commands of the README are `make run` and `make test`.
# Both start with `make setup`, which is repeatable and does nothing when nothing changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.setup-stamp
NPM_STAMP := frontend/node_modules/.setup-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test bench clean

setup: $(PY_STAMP) $(NPM_STAMP)

$(PY_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 ou plus récent est requis.")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

$(NPM_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The development mailbox (/dev/mailbox, FACTEUR_DEBUG=1) shows the e-mails in the browser;
# their links point to HOST:PORT unless FACTEUR_BASE_URL says otherwise.
run: setup
	$(BIN)/facteur demo
	FACTEUR_DEBUG=$${FACTEUR_DEBUG:-1} $(BIN)/facteur serve --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) frontend/node_modules
