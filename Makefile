# Channel Trials: `make app` starts the app on demo data; `make test` runs every test.
# Both create .venv (Python 3.11) and install the pinned requirements on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# The host `make app` serves on, from .streamlit/config.toml (server.address; 127.0.0.1 unless
# changed there on purpose); an address that means "every interface" is reached as localhost.
APP_HOST := from streamlit import config as c; a = c.get_option("server.address") or "localhost"; \
  print("localhost" if a in ("0.0.0.0", "::") else f"[{a}]" if ":" in a else a)

.PHONY: app test test-fast bench bench-portfolio oc lint format clean-venv

app: $(VENV)/.app-installed
	$(BIN)/python -m trials demo --if-empty
	@echo "Channel Trials on http://$$($(BIN)/python -c '$(APP_HOST)'):$(PORT)"
	$(BIN)/streamlit run app.py --server.port $(PORT)

test: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	.ci/with-chromium .ci/with-nginx .ci/with-postgres .ci/with-oidc $(BIN)/python -m pytest -n 2

# The quick tiers only, for the edit-test loop.
test-fast: $(VENV)/.dev-installed
	$(BIN)/python -m pytest -n 2 -m "not slow"

# Time-to-posterior figures on this machine (minutes); compares with gbstats/bayesian-testing.
bench: $(VENV)/.dev-installed
	$(PIP) --no-deps -r bench/requirements.txt
	$(BIN)/python bench/bench_fit.py

# The portfolio on 50 trials x 5 arms x 30 days: computation (cold, warm) and the page's load.
bench-portfolio: $(VENV)/.dev-installed
	$(BIN)/python bench/bench_portfolio.py

# Operating characteristics by trial shape (A/A false scale, coverage, naming the best, bias),
# default model against no pooling, an independent reference and raw totals; `--quick` is small.
oc: $(VENV)/.dev-installed
	$(BIN)/python bench/operating_characteristics.py

# Style, and the import rule (README, "Layout"; contracts in pyproject.toml).
lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else \
	  "Channel Trials needs Python 3.11; found " + sys.version.split()[0] + \
	  ". Run with PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)

# The sampler's kernel is compiled once here and cached on disk (the __pycache__ folders under inference/),
# so the app's first fit only loads it.
$(VENV)/.app-installed: requirements.txt constraints.txt pyproject.toml | $(BIN)/python
	@echo "Installing the pinned requirements into $(VENV) (a few minutes the first time)..."
	$(PIP) -r requirements.txt -c constraints.txt
	@echo "Installing Channel Trials itself in place (python -m trials and channel-trials)..."
	$(PIP) setuptools==80.9.0
	$(PIP) --no-deps --no-build-isolation -e .
	$(BIN)/python -c "import inference.funnel.sampler, inference.curve.sampler"
	@touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.app-installed
	$(PIP) -r requirements-dev.txt -c constraints.txt
	@touch $@

clean-venv:
	rm -rf $(VENV)
