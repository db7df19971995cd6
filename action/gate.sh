#!/usr/bin/env bash
# Fails the GitHub Action's job with yardstick's exit code: 99 when a
# threshold was crossed (unless fail-on-threshold is false), any other
# non-zero code always.
set -euo pipefail
code="${EXIT_CODE:-}"
if [[ -z "$code" ]]; then
  echo "::error title=yardstick::the run step recorded no exit code"
  exit 1
fi
if [[ "$code" == 99 && "${INPUT_FAIL_ON_THRESHOLD:-true}" != "true" ]]; then
  echo "::warning title=yardstick::thresholds crossed (fail-on-threshold is false)"
  exit 0
fi
if [[ "$code" == 99 ]]; then
  echo "::error title=yardstick::thresholds crossed; see the report"
fi
exit "$code"
