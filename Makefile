# Trygg: `make run` serves the demo, `make test` runs every test. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench coverage browser idp janus vnu axe screens emoji-font clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP) idp janus
	$(VENV)/bin/trygg demo

# Debian's Janus (VideoRoom) for lessons and parent meetings, where the machine allows it (root or
# sudo without a password, apt). Without it the demo says so and large meetings use the mesh.
janus:
	@if [ ! -x /usr/bin/janus ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq janus >/dev/null || \
			echo "Janus could not be installed: lessons use the mesh"; \
		elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
			sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq janus >/dev/null || \
			echo "Janus could not be installed: lessons use the mesh"; \
		else echo "Janus is not installed and this user cannot install it: lessons use the mesh"; fi; \
	fi

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

# The W3C Nu HTML checker (vnu-jar from the npm registry; runs on Java) for tests/web/test_valid_html.py.
VNU_STAMP := tools/vnu/node_modules/.installed-stamp
$(VNU_STAMP): tools/vnu/package-lock.json
	cd tools/vnu && npm ci --no-audit --no-fund --loglevel=error
	touch $(VNU_STAMP)

vnu:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(VNU_STAMP); \
	else echo "npm not found: the W3C checker is not installed"; fi

# Debian's Chromium for the browser tests (never a downloaded browser build).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; \
	fi

# A colour emoji font for the screenshots (Debian's fonts-noto-color-emoji): the guidelines for pupils
# use emoji as pictures, which every phone shows but a bare server's Chromium draws as boxes.
emoji-font:
	@if ! fc-list 2>/dev/null | grep -qi "color emoji"; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-color-emoji; \
		elif sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-color-emoji; \
		else echo "No colour emoji font: the screenshots show boxes for emoji"; fi; \
	fi

# Screenshots of each role's main pages at 390x844 and 1280x800 in nb, da and en, into docs/screens/
# (committed, so a reviewer sees the product without running it). Not part of `make test`.
screens: $(STAMP) browser emoji-font
	$(PY) tools/screens.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench

test: $(STAMP) browser idp janus vnu axe lint
	$(PY) -m pytest -p no:cacheprovider

coverage: $(STAMP)
	$(VENV)/bin/trygg policy coverage

bench: $(STAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache demo-idp/node_modules
