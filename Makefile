# Two entry points, each doing its own set-up on a fresh machine:
#   make plan   run the default plan end to end (all tables of all papers)
#   make test   run the test suite
# Set XLT_MIRROR to a local mirror of the corpora to run offline (see README).

PYTHON ?= python3
VENV ?= .venv
CORES ?= all
BIN := $(VENV)/bin

.PHONY: setup plan test lint dry-run-paper clean-results slurm-profile

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

# Install profiles/slurm as the user's `slurm` profile, so that the documented command
# `snakemake --profile slurm <target>` works from the repository root. A link, not a copy:
# edits to profiles/slurm (partition names) apply at once.
SNAKEMAKE_CONFIG ?= $(or $(XDG_CONFIG_HOME),$(HOME)/.config)/snakemake
slurm-profile:
	mkdir -p $(SNAKEMAKE_CONFIG)
	ln -sfn $(CURDIR)/profiles/slurm $(SNAKEMAKE_CONFIG)/slurm
	@echo "installed: $(SNAKEMAKE_CONFIG)/slurm -> $(CURDIR)/profiles/slurm"
