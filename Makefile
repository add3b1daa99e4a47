# Two entry points, each doing its own set-up on a fresh machine:
#   make plan   run the default plan end to end (all tables of all papers)
#   make test   run the test suite
# Set XLT_MIRROR to a local mirror of the corpora to run offline (see README).

PYTHON ?= python3
VENV ?= .venv
CORES ?= all
BIN := $(VENV)/bin

.PHONY: setup plan test lint dry-run-paper clean-results

setup: $(VENV)/.installed

# Re-installs only when the pinned dependencies change.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

plan: setup
	$(BIN)/snakemake --cores $(CORES) all

test: setup
	$(BIN)/pytest -ra

lint: setup
	$(BIN)/snakemake --lint

dry-run-paper: setup
	$(BIN)/snakemake -n --configfile=config/paper.yaml results/tables/ner_f1.csv
