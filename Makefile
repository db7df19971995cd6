# Yardstick — the two commands that matter:
#   make demo   the main job, offline: fine-tune a local model on the shipped
#               customer-support suite and compare it with its base (and with a
#               hosted model when a key is set)
#   make test   every test: vet, the pure-Go tests with -race, the browser test
#               of the HTML report, short fuzz runs of the input parsers, and the
#               libtorch (-tags torch) tests
GO      ?= go
BIN     ?= bin
PKGS    ?= ./...

.PHONY: all build test test-go test-deps vet fmt fmt-check bench demo clean

all: build

build:
	$(GO) build -o $(BIN)/yardstick ./cmd/yardstick

fmt:
	gofmt -w $$(git ls-files '*.go')

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

# test-deps installs what the tests need and the machine lacks: Chromium for the
# HTML report's browser test (Debian's package, when running as root).
test-deps:
	@scripts/test-deps.sh

test-go:
	$(GO) test -race -count=1 $(PKGS)

test: fmt-check vet test-deps test-go fuzz mem-check test-torch

demo: build-torch smollm2
	@$(TORCH_ENV) scripts/demo.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./bench/ ./reports/

clean:
	rm -rf $(BIN)

include mk/torch.mk
include mk/fuzz.mk
