# Trygg: `make run` serves the demo, `make test` runs every test. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench coverage browser idp axe clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP) idp
	$(VENV)/bin/trygg demo

# The demo's own OpenID provider (Node.js, oidc-provider from the npm registry), for "Sign in with
# Feide (demo provider)" and the sign-in tests. Installed from the lockfile; skipped without npm.
IDP_STAMP := demo-idp/node_modules/.installed-stamp
$(IDP_STAMP): demo-idp/package-lock.json
	cd demo-idp && npm ci --no-audit --no-fund --loglevel=error
	touch $(IDP_STAMP)

# axe-core for the browser tests' accessibility checks (tests/e2e/axe_check.py), from its lockfile.
AXE_STAMP := tests/e2e/axe/node_modules/.installed-stamp
$(AXE_STAMP): tests/e2e/axe/package-lock.json
	cd tests/e2e/axe && npm ci --no-audit --no-fund --loglevel=error
	touch $(AXE_STAMP)

axe:
	@$(MAKE) --no-print-directory $(AXE_STAMP)

idp:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(IDP_STAMP); \
	else echo "npm not found: the demo runs without its sign-in provider"; fi

# Debian's Chromium for the browser tests (never a downloaded browser build).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench

test: $(STAMP) browser idp axe lint
	$(PY) -m pytest -p no:cacheprovider

coverage: $(STAMP)
	$(VENV)/bin/trygg policy coverage

bench: $(STAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache demo-idp/node_modules
