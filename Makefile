# The README's two commands: `make run` and `make test`. Both create or refresh .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
# Re-install only when the declared dependencies change; pip's wheel cache makes a re-install cheap.
STAMP  := $(VENV)/.ragtune-installed
# Every install goes through constraints.txt so nothing can swap the CPU build of torch for a CUDA one.
PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check -c constraints.txt
# llama-cpp-python has no Linux wheel on the index: pip compiles it once (minutes) and then
# reuses the wheel it cached. Compile on every core, for portable AVX2 rather than -march=native:
# a native build also enables llama.cpp's AMX kernels on recent Xeons, which crash
# (ggml_backend_amx_mul_mat, SIGSEGV) on any prompt of more than one token here, and a native
# wheel taken from the cache may not run on another CPU. The multimodal library is not needed.
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc 2>/dev/null || echo 2)
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF

.PHONY: run test install browser bench bench-env clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip setuptools wheel >/dev/null
	$(PIP_INSTALL) -e '.[all,test]'
	@touch $(STAMP)

SAMPLE_WS := .ragtune/sample
RAGTUNE   := $(VENV)/bin/ragtune
EMPLOYEE  := --workspace $(SAMPLE_WS) --user erik --groups staff
HR        := --workspace $(SAMPLE_WS) --user hanna --groups staff,hr
run: $(STAMP)
	$(RAGTUNE) sync examples/sample_corpus --workspace $(SAMPLE_WS) --groups staff
	@echo; echo "== an employee (erik, group staff) asks; answers cite their sources and the citations are checked"
	$(RAGTUNE) ask "How much are meals refunded per day on a business trip?" $(EMPLOYEE)
	$(RAGTUNE) ask "Where are e-bike batteries charged in the workshop?" $(EMPLOYEE) --stream
	$(RAGTUNE) ask "What does the Commuter 200 Belt cost?" $(EMPLOYEE)
	@echo; echo "== the HR-only leave policy is invisible to the employee: the model is not even called"
	$(RAGTUNE) ask "How many days of paid annual leave do employees get?" $(EMPLOYEE)
	@echo; echo "== HR (hanna, groups staff,hr) asks the same"
	$(RAGTUNE) ask "How many days of paid annual leave do employees get?" $(HR)
	@echo; echo "== structured output: JSON valid against a schema (grammar-constrained decoding)"
	$(RAGTUNE) ask "What is the warranty of the Commuter 200 Belt?" $(EMPLOYEE) --json-schema examples/answer.schema.json
	@echo; echo "== the shipped eval set, each question asked as its own principal: scores, latency, cost"
	$(RAGTUNE) eval qa --evalset examples/sample_eval.jsonl --workspace $(SAMPLE_WS)
	$(RAGTUNE) status --workspace $(SAMPLE_WS)
	@echo; echo "== RAG or fine-tuning? the advisor on the example answers (no compare run here: assumptions, said so)"
	$(RAGTUNE) advise --answers examples/advise.toml --no-measured --workspace $(SAMPLE_WS)

test: $(STAMP) browser
	$(PY) -m pytest $(PYTEST_ARGS)

# Report tests render HTML in headless Chromium (Debian's package). Installed here when missing
# and apt-get can run as root; otherwise those tests skip with a message (CI makes them required).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the report tests"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; } || \
	    echo "could not install chromium: browser tests will skip"; \
	  else echo "chromium not found and not root: browser tests will skip"; fi; }

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
