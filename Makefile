# Set-up-and-go targets used by the README and by CI. Everything installs into .venv with pip.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: quickstart test lint install chromium

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

quickstart: $(STAMP)
	$(BIN)/asc-bench data synth data/synth
	$(BIN)/asc-bench run specs/quickstart.yaml
	$(BIN)/asc-bench leaderboard runs/quickstart --format html --out runs/leaderboard.html

# The HTML leaderboard tests drive a real headless browser: Debian's chromium, installed when missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM_INSTALL := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium

chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -q && $(CHROMIUM_INSTALL); }

# Two workers (the tests are sized for two cores); work stealing evens out the long end-to-end runs.
test: $(STAMP) chromium
	$(BIN)/python -m pytest -q -n 2 --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
