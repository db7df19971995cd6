#!/usr/bin/env bash
# test-deps.sh — install what `make test` needs and a fresh Debian machine lacks.
# Today that is Chromium, for the HTML report's headless browser test. Without
# root (a developer's laptop) it only says what is missing; the browser test
# then skips and says why.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
	exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
	echo "test-deps: installing chromium (Debian package) for the HTML report test" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
else
	echo "test-deps: chromium not found and cannot install it here (need root + apt-get); the browser test will skip" >&2
fi
