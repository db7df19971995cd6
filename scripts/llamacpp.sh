#!/usr/bin/env bash
# llamacpp.sh — llama.cpp for the generation benchmark (BenchmarkBatchedGeneration's third column), once,
# outside the repo: the npm package node-llama-cpp, pinned, ships prebuilt llama.cpp binaries (CPU builds
# for linux-x64), so nothing compiles. Its postinstall script, which would build llama.cpp when no prebuilt
# binary fits, is skipped: the benchmark loads the prebuilt one with build: "never". (llama-cpp-python, the
# Python binding the issue names, compiles llama.cpp from source — about half an hour on this 2-core
# machine — so the benchmark uses node-llama-cpp instead.)
#
# Usage:
#   scripts/llamacpp.sh setup   # idempotent: npm install -E node-llama-cpp@$VERSION into $CACHE/node-llama-cpp
#   scripts/llamacpp.sh dir     # setup, then print the directory holding node_modules/node-llama-cpp
#
# Never part of `make test`; `make bench-llamacpp` runs setup. Environment knobs: YARDSTICK_CACHE (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/yardstick), NPM (default npm).
set -euo pipefail

VERSION=3.21.1
CACHE="${YARDSTICK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/yardstick}"
DIR="$CACHE/node-llama-cpp"
NPM="${NPM:-npm}"

log() { echo "llamacpp.sh: $*" >&2; }

installed() {
	[[ -f "$DIR/node_modules/node-llama-cpp/package.json" ]] &&
		grep -q "\"version\": \"$VERSION\"" "$DIR/node_modules/node-llama-cpp/package.json"
}

setup() {
	if installed; then
		return
	fi
	if ! command -v node >/dev/null || ! command -v "$NPM" >/dev/null; then
		log "node and npm are needed (node >= 20)"
		exit 1
	fi
	mkdir -p "$DIR"
	[[ -f "$DIR/package.json" ]] || echo '{"name": "yardstick-llamacpp-bench", "private": true}' >"$DIR/package.json"
	log "installing node-llama-cpp@$VERSION (prebuilt llama.cpp) into $DIR"
	(cd "$DIR" && "$NPM" install --no-audit --no-fund --ignore-scripts -E "node-llama-cpp@$VERSION" >&2)
	installed || { log "node-llama-cpp@$VERSION did not install into $DIR"; exit 1; }
}

case "${1:-}" in
setup) setup ;;
dir) setup && echo "$DIR" ;;
*)
	echo "usage: $0 setup|dir" >&2
	exit 2
	;;
esac
