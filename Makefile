# The two commands: `make up` runs the stack, `make test` runs the tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
STAMP  := $(VENV)/.installed-with-web
WEB_SOURCES := $(shell find web -path web/node_modules -prune -o -type f -print 2>/dev/null)

.PHONY: up test lint bench install clean web

$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(PY_STAMP)

# The stamp covers the web app too, so a change under web/ rebuilds it before tests.
$(STAMP): $(PY_STAMP) web/package-lock.json $(WEB_SOURCES)
	@$(MAKE) --no-print-directory web
	touch $(STAMP)

install: $(STAMP)

# MediaHub's web app (web/: React, Vite) built into src/openfront/mediahub/webapp/. Needs
# Node.js 18 or newer; without Node the API still runs and says the app is not built.
web:
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
	  echo "note: Node.js (node, npm) not found: skipping the MediaHub web app build."; \
	  echo "      Install Node.js 18 or newer (Debian 12: apt-get install nodejs npm), then: make web"; \
	elif ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then \
	  echo "error: the MediaHub web app needs Node.js 18 or newer, found $$(node --version)" >&2; \
	  exit 1; \
	else \
	  cd web && { [ node_modules/.package-lock.json -nt package-lock.json ] \
	    || npm ci --no-audit --no-fund; } && npm run build; \
	fi

up: $(STAMP)
	$(BIN)/openfront up $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	@if [ -d web/node_modules ]; then cd web && npm run --silent lint; fi

bench: $(STAMP)
	$(BIN)/python -m bench.run $(ARGS)

clean:
	rm -rf $(VENV) build dist src/openfront/mediahub/webapp web/node_modules
