# The two commands: `make lab` (install what is missing, start the demo catalog and JupyterLab) and
# `make test` (install what is missing, run every test). Everything installs from one lock.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8888
LOCK := images/lock/stack.lock.txt
STAMP := $(VENV)/.ai4geo-installed
PY := $(VENV)/bin/python
export AI4GEO_DEMO_DIR ?= $(CURDIR)/.demo
PYTEST_ARGS ?=
# Every JupyterLab extension is a pip-installable package under extensions/ (prebuilt at install time by
# hatch-jupyter-builder with the venv's jlpm and the machine's Node).
EXTENSIONS := $(patsubst %/pyproject.toml,%,$(wildcard extensions/*/pyproject.toml))
EXT_SOURCES := $(wildcard $(addsuffix /pyproject.toml,$(EXTENSIONS)) $(addsuffix /package.json,$(EXTENSIONS)) \
	$(addsuffix /src/*,$(EXTENSIONS)) $(addsuffix /style/*,$(EXTENSIONS)) $(addsuffix /schema/*,$(EXTENSIONS)) \
	$(addsuffix /*/*.py,$(EXTENSIONS)))

.PHONY: help install demo lab test test-unit lock clean
.DEFAULT_GOAL := help

help:
	@echo "make lab [PORT=8888]   install what is missing, start the demo catalog and JupyterLab"
	@echo "make test              install what is missing, run every test"
	@echo "make demo              generate the demo area (reused when present)"
	@echo "make lock              re-resolve images/lock/stack.lock.txt from images/lock/*.in (needs uv)"

# The venv is (re)installed only when the lock or pyproject.toml changed since the last install.
$(STAMP): $(LOCK) pyproject.toml $(EXT_SOURCES)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required ($(PYTHON))"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r $(LOCK)
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	@for ext in $(EXTENSIONS); do \
	  echo "building and installing $$ext"; \
	  PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pip install --disable-pip-version-check -q --no-deps \
	    --no-build-isolation "./$$ext" || exit 1; \
	done
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) -m ai4geo_kernel.demo generate

lab: install
	@exec $(PY) -m ai4geo_kernel.lab --port $(PORT) --root notebooks

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: install
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

# TORCH_WHEELS: a folder holding the CPU torch wheel (uv does not read pip's find-links configuration).
TORCH_WHEELS ?= /opt/wheels
lock:
	cd images/lock && uv pip compile core.in imagery.in dev.in --python-version 3.11 --native-tls \
	  $(if $(wildcard $(TORCH_WHEELS)),--find-links $(TORCH_WHEELS)) -o stack.lock.txt

clean:
	rm -rf $(VENV) .demo .pytest_cache

# Container images: make images, make images-test (images/images.mk).
include images/images.mk
