# Everything a fresh machine needs is installed from here: README's two commands call it.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
KAFKA_VERSION ?= 3.9.1
PYTEST_ARGS ?=

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export UV_PYTHON := $(PYTHON)

.PHONY: install install-cpu onnx-model system-deps demo test test-slow lint bench bench-alibi kafka-up kafka-down clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(BIN)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-extras --group dev
	touch $@

# What the tests run for real from Debian's packages: Alertmanager, Chromium to render the
# HTML report, and kcat (librdkafka) to publish every record shape from a client other than
# Seismo's own (Kafka comes from Maven Central at first use, see streams/kafka/local_broker.py).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-deps:
	@command -v prometheus-alertmanager >/dev/null && command -v chromium >/dev/null && \
	  command -v kcat >/dev/null || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq prometheus-alertmanager \
	    chromium kcat; }
	@command -v java >/dev/null && command -v mvn >/dev/null || \
	  { echo "Java 17 and Maven are needed for the local Kafka broker"; exit 1; }

install: $(BIN)/.installed system-deps

# The CPU install (README: Installs): the locked packages without torch, triton and the CUDA
# libraries (5 GB of the 6.8), for the onnx-int8 backend on an export that `make onnx-model`
# made once with the full install. PyPI's Linux torch wheels need the CUDA libraries to import.
CPU_VENV ?= .venv-cpu
NO_CUDA = $(shell grep -oE '^name = "(nvidia-[^"]*|cuda-[^"]*|triton|torch)"' uv.lock | \
  cut -d'"' -f2 | sort -u | sed 's/^/--no-install-package /')
install-cpu: $(UV)
	UV_PROJECT_ENVIRONMENT=$(CPU_VENV) $(UV) sync --frozen --extra embed --extra onnx \
	  --extra grafana --extra report $(NO_CUDA)

onnx-model: install
	$(BIN)/python -m streams.embedding.onnx

demo: install
	$(BIN)/seismo demo

test: install
	$(BIN)/ruff check .
	SEISMO_KAFKA_VERSION=$(KAFKA_VERSION) $(BIN)/pytest $(PYTEST_ARGS)

test-slow: install
	SEISMO_KAFKA_VERSION=$(KAFKA_VERSION) $(BIN)/pytest -m slow $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/signals.py
	$(BIN)/python bench/drift.py
	$(BIN)/python bench/embedding.py
	$(BIN)/python bench/throughput.py

# alibi-detect needs numpy < 2: it gets its own environment (bench/.venv-alibi).
bench-alibi: install
	$(BIN)/python bench/alibi_compare.py

kafka-up: install
	$(BIN)/seismo kafka up --version $(KAFKA_VERSION)

kafka-down: install
	$(BIN)/seismo kafka down --version $(KAFKA_VERSION)

clean:
	rm -rf $(VENV) $(TOOLS) .seismo .pytest_cache .ruff_cache
