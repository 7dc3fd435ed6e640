# The README's two commands: `make run` and `make test`. Both create or refresh .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
# Re-install only when the declared dependencies change; pip's wheel cache makes a re-install cheap.
STAMP  := $(VENV)/.ragtune-installed
# Every install goes through constraints.txt so nothing can swap the CPU build of torch for a CUDA one.
PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check -c constraints.txt

.PHONY: run test install bench bench-env clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip setuptools wheel >/dev/null
	$(PIP_INSTALL) -e '.[all,test]'
	@touch $(STAMP)

SAMPLE_WS := .ragtune/sample
run: $(STAMP)
	$(VENV)/bin/ragtune sync examples/sample_corpus --workspace $(SAMPLE_WS) --groups staff
	@echo; echo "== an employee (group staff) asks about salary bands: the HR-only table stays invisible"
	$(VENV)/bin/ragtune search "salary band for a senior mechanic" --workspace $(SAMPLE_WS) --user erik --groups staff -k 3
	@echo; echo "== HR asks the same"
	$(VENV)/bin/ragtune search "salary band for a senior mechanic" --workspace $(SAMPLE_WS) --user hanna --groups staff,hr -k 3
	@echo; echo "== a keyword (BM25) search"
	$(VENV)/bin/ragtune search "warranty" --workspace $(SAMPLE_WS) --user erik --groups staff --mode bm25 -k 3
	$(VENV)/bin/ragtune status --workspace $(SAMPLE_WS)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) bench/ingest_parse.py
	$(PY) bench/embed_speed.py
	$(PY) bench/ann_scale.py --sizes 100000 --store 100000
	$(PY) bench/retrieval_beir.py

# Peers (LlamaIndex) are installed only here, never in .venv: this venv sees .venv's packages
# through a .pth line and adds the peers on top, so torch is not installed twice.
BENCH_VENV := .venv-bench
bench-env: $(BENCH_VENV)/.ok
$(BENCH_VENV)/.ok: $(STAMP)
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	echo "import site; site.addsitedir('$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')')" \
		> $$($(BENCH_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ragtune-main-venv.pth
	$(BENCH_VENV)/bin/pip install --disable-pip-version-check -c constraints.txt llama-index-core llama-index-embeddings-huggingface
	@touch $@

clean:
	rm -rf $(VENV) $(BENCH_VENV) .ragtune .pytest_cache .hypothesis
