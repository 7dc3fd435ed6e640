# The README's two commands: `make run` and `make test`. Both create or refresh .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
# Re-install only when the declared dependencies change; pip's wheel cache makes a re-install cheap.
STAMP  := $(VENV)/.ragtune-installed
# Every install goes through constraints.txt so nothing can swap the CPU build of torch for a CUDA one.
PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check -c constraints.txt

.PHONY: run test install bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip setuptools wheel >/dev/null
	$(PIP_INSTALL) -e '.[all,test]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/ragtune ingest examples/sample_corpus --workspace .ragtune/sample --groups staff
	$(VENV)/bin/ragtune inspect examples/sample_corpus/products/price-list.csv --workspace .ragtune/sample --max-chunks 3

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) bench/ingest_parse.py

clean:
	rm -rf $(VENV) .ragtune .pytest_cache .hypothesis
