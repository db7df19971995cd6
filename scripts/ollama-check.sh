#!/usr/bin/env bash
# ollama-check.sh — does Ollama serve what `yardstick finetune export` writes, and does it answer as
# Yardstick's own local provider does? Out of `make test` (it builds Ollama and runs three models over a
# suite split): run it after changing the GGUF writer, and on a fine-tune before shipping it.
#
# Usage:
#   scripts/ollama-check.sh build            # idempotent: build the ollama binary into the cache
#   scripts/ollama-check.sh RUN [SUITE SPLIT] # export RUN (a `yardstick finetune --out` directory) as a merged
#                                             # Q8_0 GGUF and as a GGUF LoRA adapter, `ollama create` a model
#                                             # from each (FROM the merged file; FROM the base GGUF + ADAPTER),
#                                             # and run SUITE's SPLIT (default: customer-support test) on
#                                             # local:RUN, ollama:yardstick-merged and ollama:yardstick-lora,
#                                             # --reference local:RUN; prints the paired comparison
#
# Ollama is built from the Go module proxy at the version go.mod pins (github.com/ollama/ollama), with
# `go install`: no binary is downloaded from elsewhere. A module zip leaves out llama.cpp's vendor/ folder,
# so its three headers come from registries: nlohmann/json and stb from Debian (nlohmann-json3-dev,
# libstb-dev; installed when running as root), miniaudio.h from the PyPI sdist miniaudio==1.71 (sha256
# pinned). The build takes about 15 minutes on 2 cores.
#
# The server runs on 127.0.0.1:$PORT with its own model store under $WORK, and is stopped at exit.
# Knobs: YARDSTICK_CACHE, PYTHON (python3), PORT (11555), WORK (a temp dir), Y (bin/yardstick-torch),
# OUT (the run directory, default $WORK/run; an existing one is resumed).
set -euo pipefail

CACHE="${YARDSTICK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/yardstick}"
PYTHON="${PYTHON:-python3}"
PORT="${PORT:-11555}"
Y="${Y:-bin/yardstick-torch}"
MINIAUDIO_VERSION=1.71
MINIAUDIO_SHA256=ff51e2887bb673e2e757752b586b3dc924d59aa5fbcae9bbc45f4a111bd3262b
OLLAMA_VERSION=$(go list -m -f '{{.Version}}' github.com/ollama/ollama)
BIN="$CACHE/ollama-$OLLAMA_VERSION/bin/ollama"
INCLUDE="$CACHE/ollama-$OLLAMA_VERSION/include"

log() { echo "ollama-check.sh: $*" >&2; }

build() {
	[[ -x "$BIN" ]] && return
	if [[ ! -f /usr/include/nlohmann/json_fwd.hpp || ! -f /usr/include/stb/stb_image.h ]]; then
		if [[ $(id -u) -ne 0 ]]; then
			log "need Debian's nlohmann-json3-dev and libstb-dev (apt-get install them as root)"
			exit 1
		fi
		apt-get install -y -q nlohmann-json3-dev libstb-dev >&2
	fi
	if [[ ! -f "$INCLUDE/miniaudio/miniaudio.h" ]]; then
		local tmp
		tmp=$(mktemp -d)
		"$PYTHON" -m pip download --no-deps --no-binary=:all: --dest "$tmp" "miniaudio==$MINIAUDIO_VERSION" >&2
		local sdist="$tmp/miniaudio-$MINIAUDIO_VERSION.tar.gz"
		if [[ "$(sha256sum "$sdist" | cut -d' ' -f1)" != "$MINIAUDIO_SHA256" ]]; then
			log "$sdist: sha256 mismatch, want $MINIAUDIO_SHA256"
			exit 1
		fi
		mkdir -p "$INCLUDE/miniaudio"
		tar -xzf "$sdist" -C "$tmp" "miniaudio-$MINIAUDIO_VERSION/miniaudio/miniaudio.h"
		mv "$tmp/miniaudio-$MINIAUDIO_VERSION/miniaudio/miniaudio.h" "$INCLUDE/miniaudio/"
		rm -rf "$tmp"
	fi
	log "building ollama $OLLAMA_VERSION (about 15 minutes on 2 cores)"
	local start=$SECONDS
	(cd "$(mktemp -d)" && CGO_CPPFLAGS="-I$INCLUDE" GOBIN="$(dirname "$BIN")" GOFLAGS= \
		go install "github.com/ollama/ollama@$OLLAMA_VERSION")
	log "built $BIN in $((SECONDS - start))s"
}

check() {
	local run=$1 suite=${2:-customer-support} split=${3:-test}
	build
	[[ -x "$Y" ]] || { log "$Y missing: make build-torch"; exit 1; }
	local base
	base=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["base_model_name_or_path"])' "$run/adapter_config.json")
	[[ "$base" == *.gguf ]] || { log "$run: base $base is not a GGUF file; Ollama needs one for the ADAPTER model"; exit 1; }
	WORK="${WORK:-$(mktemp -d)}"
	mkdir -p "$WORK"
	log "exports and Ollama store in $WORK"
	"$Y" finetune export "$run" --format gguf --type q8_0 -o "$WORK/merged-q8_0.gguf"
	"$Y" finetune export "$run" --format gguf-lora -o "$WORK/lora.gguf"
	export OLLAMA_HOST="127.0.0.1:$PORT"
	OLLAMA_MODELS="$WORK/models" OLLAMA_NUM_PARALLEL=1 "$BIN" serve >"$WORK/serve.log" 2>&1 &
	OLLAMA_PID=$!
	trap 'kill $OLLAMA_PID 2>/dev/null || true' EXIT
	for _ in $(seq 50); do "$BIN" list >/dev/null 2>&1 && break; sleep 0.2; done
	printf 'FROM %s\n' "$WORK/merged-q8_0.gguf" >"$WORK/Modelfile.merged"
	printf 'FROM %s\nADAPTER %s\n' "$base" "$WORK/lora.gguf" >"$WORK/Modelfile.lora"
	"$BIN" create yardstick-merged -f "$WORK/Modelfile.merged" >&2
	"$BIN" create yardstick-lora -f "$WORK/Modelfile.lora" >&2
	# The answers are what is compared: latencies are those of three models sharing one CPU.
	local out="${OUT:-$WORK/run}" resume=()
	[[ -f "$out/results.jsonl" ]] && resume=(--resume)
	"$Y" run "$suite" --split "$split" --no-thresholds "${resume[@]}" --reference "local:$run" --out "$out" \
		-m "local:$run" -m ollama:yardstick-merged -m ollama:yardstick-lora
}

case "${1:-}" in
build) build ;;
"" | -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' ;;
*) check "$@" ;;
esac
