#!/usr/bin/env bash
# libtorch.sh — obtain libtorch 2.1.2 for gotch v0.9.1 once, cache it outside the repo, and print the
# cgo environment a `-tags torch` build needs.
#
# Usage:
#   scripts/libtorch.sh setup   # idempotent: unpack (or reuse) libtorch and build the CUDA stand-ins
#   scripts/libtorch.sh env     # setup, then print `export ...` lines (eval "$(scripts/libtorch.sh env)")
#
# Sources, in order:
#   1. $LIBTORCH, when set: an existing libtorch tree with lib/ and include/ (must be 2.1.x, pre-C++11 ABI).
#   2. The PyPI wheel torch==2.1.2 (fetched with `pip download --no-deps` into $CACHE/wheels unless already
#      there); only torch/lib/{libtorch_cpu,libtorch,libc10,libgomp*} and torch/include are unpacked, plus
#      libcudart.so.12 and libcupti.so.12 from the PyPI wheels torch 2.1.2 pins (the wheel's libtorch_cpu.so
#      itself lists them as DT_NEEDED; see cuda_runtime_libs). A stamp file makes reruns a no-op.
#
# gotch's libtch/lib.go always links the CUDA libraries. On a CPU machine we satisfy the linker with empty
# shared objects of those names in a separate stub directory, passed first with -Wl,--as-needed so they (and
# the unused libtorch.so) never become DT_NEEDED entries of the binary. Nothing in the Go module cache is touched.
#
# Environment knobs: LIBTORCH, YARDSTICK_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/yardstick),
# PYTHON (default python3), TORCH_WHEEL (path to an already downloaded torch-2.1.2 wheel).
#
# Needs: Linux x86_64, gcc and g++ (cgo), python3 with pip (only to download and unzip wheels; nothing is
# installed into any Python). Disk: ~0.7 GB of wheels + ~0.5 GB unpacked, both under the cache directory.
set -euo pipefail

TORCH_VERSION=2.1.2
CACHE="${YARDSTICK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/yardstick}"
PYTHON="${PYTHON:-python3}"
CUDA_NAMES=(cuda cudart cublas cudnn caffe2_nvrtc nvrtc-builtins nvrtc nvToolsExt c10_cuda torch_cuda)

log() { echo "libtorch.sh: $*" >&2; }

if [[ -n "${LIBTORCH:-}" ]]; then
	ROOT="$LIBTORCH"
else
	ROOT="$CACHE/libtorch-$TORCH_VERSION"
fi
STUBS="$CACHE/libtorch-stubs"

fetch_wheel() {
	local w
	if [[ -n "${TORCH_WHEEL:-}" ]]; then echo "$TORCH_WHEEL"; return; fi
	w=$(ls "$CACHE/wheels"/torch-"$TORCH_VERSION"-*.whl 2>/dev/null | head -n1 || true)
	if [[ -z "$w" ]]; then
		mkdir -p "$CACHE/wheels"
		log "downloading torch==$TORCH_VERSION wheel (~670 MB) into $CACHE/wheels"
		# Only the libraries are used, so any CPython's wheel will do: ask for cp311's, which exists whatever
		# the local Python is (torch 2.1.2 has no wheels for Python 3.12+).
		"$PYTHON" -m pip download --no-deps --only-binary=:all: --platform manylinux1_x86_64 \
			--python-version 3.11 --implementation cp --abi cp311 \
			--dest "$CACHE/wheels" "torch==$TORCH_VERSION" >&2
		w=$(ls "$CACHE/wheels"/torch-"$TORCH_VERSION"-*.whl | head -n1)
	fi
	echo "$w"
}

unpack() {
	local wheel tmp
	wheel=$(fetch_wheel)
	log "unpacking $(basename "$wheel") into $ROOT"
	tmp="$ROOT.tmp.$$"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	# unzip is not always installed; Python's zipfile always is.
	"$PYTHON" - "$wheel" "$tmp" <<'PY'
import sys, zipfile, os, re
wheel, out = sys.argv[1], sys.argv[2]
keep_lib = re.compile(r"^torch/lib/(libtorch_cpu\.so|libtorch\.so|libc10\.so|libgomp[^/]*\.so[.0-9]*)$")
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        n = info.filename
        if n.endswith("/"):
            continue
        if keep_lib.match(n) or n.startswith("torch/include/"):
            dst = os.path.join(out, n[len("torch/"):])
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with z.open(info) as src, open(dst, "wb") as f:
                while True:
                    b = src.read(1 << 20)
                    if not b:
                        break
                    f.write(b)
PY
	cuda_runtime_libs "$tmp/lib"
	rm -rf "$ROOT"
	mv "$tmp" "$ROOT"
	echo "torch==$TORCH_VERSION from $(basename "$wheel")" >"$ROOT/.yardstick-stamp"
}

# The PyPI torch wheel is the CUDA build: its libtorch_cpu.so itself has DT_NEEDED entries for
# libcudart.so.12 and libcupti.so.12 (the Kineto profiler calls 5 cudart and ~32 cupti functions; none runs on
# CPU-only code paths). Rather than fake those ABIs we ship the real libraries from the exact PyPI wheels torch
# 2.1.2 depends on (~15 MB download); they load fine on a machine without a GPU or driver.
NVIDIA_WHEELS=(nvidia-cuda-runtime-cu12==12.1.105 nvidia-cuda-cupti-cu12==12.1.105)
cuda_runtime_libs() {
	local dest="$1"
	mkdir -p "$CACHE/wheels"
	local have=1
	for spec in "${NVIDIA_WHEELS[@]}"; do
		local name="${spec%%==*}" ver="${spec##*==}"
		ls "$CACHE/wheels/${name//-/_}-$ver"-*.whl >/dev/null 2>&1 || have=0
	done
	if [[ $have == 0 ]]; then
		log "downloading ${NVIDIA_WHEELS[*]} into $CACHE/wheels"
		"$PYTHON" -m pip download --no-deps --only-binary=:all: --platform manylinux1_x86_64 \
			--platform manylinux2014_x86_64 --dest "$CACHE/wheels" "${NVIDIA_WHEELS[@]}" >&2
	fi
	"$PYTHON" - "$dest" "$CACHE/wheels" "${NVIDIA_WHEELS[@]}" <<'PY'
import sys, zipfile, glob, os
dest, wheels, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
want = {"libcudart.so.12", "libcupti.so.12"}
for spec in specs:
    name, ver = spec.split("==")
    (whl,) = glob.glob(os.path.join(wheels, f"{name.replace('-', '_')}-{ver}-*.whl"))
    with zipfile.ZipFile(whl) as z:
        for n in z.namelist():
            if os.path.basename(n) in want:
                with z.open(n) as src, open(os.path.join(dest, os.path.basename(n)), "wb") as f:
                    f.write(src.read())
                want.discard(os.path.basename(n))
if want:
    sys.exit(f"libtorch.sh: not found in the nvidia wheels: {sorted(want)}")
PY
}

stubs() {
	[[ -f "$STUBS/.yardstick-stamp" ]] && return
	command -v gcc >/dev/null || { log "gcc is required (apt-get install build-essential)"; exit 1; }
	local tmp="$STUBS.tmp.$$"
	rm -rf "$tmp"; mkdir -p "$tmp"
	printf '/* empty stand-in for a CUDA library that gotch links; see scripts/libtorch.sh */\n' >"$tmp/empty.c"
	for n in "${CUDA_NAMES[@]}"; do
		gcc -shared -fPIC -o "$tmp/lib$n.so" "$tmp/empty.c"
	done
	rm -f "$tmp/empty.c"
	touch "$tmp/.yardstick-stamp"
	rm -rf "$STUBS"; mv "$tmp" "$STUBS"
}

setup() {
	if [[ -n "${LIBTORCH:-}" ]]; then
		[[ -d "$ROOT/lib" && -d "$ROOT/include" ]] || { log "LIBTORCH=$LIBTORCH has no lib/ and include/"; exit 1; }
	elif [[ ! -f "$ROOT/.yardstick-stamp" ]]; then
		unpack
	fi
	stubs
}

env_lines() {
	local lib="$ROOT/lib" inc="$ROOT/include"
	local cflags="-I$inc -I$inc/torch/csrc/api/include -D_GLIBCXX_USE_CXX11_ABI=0"
	echo "export LIBTORCH_ROOT='$ROOT'"
	echo "export CGO_CFLAGS='$cflags'"
	echo "export CGO_CXXFLAGS='$cflags'"
	echo "export CGO_LDFLAGS='-Wl,--as-needed -L$STUBS -L$lib -Wl,-rpath-link,$STUBS -Wl,-rpath,$lib'"
	echo "export LD_LIBRARY_PATH='$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}'"
}

case "${1:-env}" in
setup) setup ;;
env) setup; env_lines ;;
root) echo "$ROOT" ;;
*) echo "usage: $0 setup|env|root" >&2; exit 2 ;;
esac
