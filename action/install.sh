#!/usr/bin/env bash
# Installs the yardstick binary for the GitHub Action and puts it on PATH:
# $YARDSTICK_BIN when set (a prebuilt binary: self-hosted runners, tests),
# else `go install` of $YARDSTICK_VERSION, else a build of the action's own
# checkout, so the binary is exactly the action's ref.
set -euo pipefail
dest="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/yardstick-bin"
mkdir -p "$dest"
if [[ -n "${YARDSTICK_BIN:-}" ]]; then
  install -m 0755 "$YARDSTICK_BIN" "$dest/yardstick"
elif [[ -n "${YARDSTICK_VERSION:-}" ]]; then
  GOBIN="$dest" go install "github.com/yardstick-eval/yardstick/cmd/yardstick@${YARDSTICK_VERSION}"
else
  root="${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}"
  (cd "$root" && go build -trimpath -o "$dest/yardstick" ./cmd/yardstick)
fi
if [[ -n "${GITHUB_PATH:-}" ]]; then
  echo "$dest" >>"$GITHUB_PATH"
fi
"$dest/yardstick" --version
