#!/usr/bin/env bash
# Runs `yardstick run` for the GitHub Action from its INPUT_* variables,
# records verdict, exit-code and report-dir in $GITHUB_OUTPUT, and posts
# report.md on the pull request (`yardstick ci comment`). It never fails the
# step itself: gate.sh does, after the report is uploaded. `yardstick run`
# writes the report to $GITHUB_STEP_SUMMARY on its own.
set -uo pipefail
bin="${YARDSTICK_BIN:-yardstick}"
command -v "$bin" >/dev/null 2>&1 || bin="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/yardstick-bin/yardstick"
out="${INPUT_OUT:-yardstick-run}"
output() { if [[ -n "${GITHUB_OUTPUT:-}" ]]; then echo "$1=$2" >>"$GITHUB_OUTPUT"; fi; }

args=()
if [[ -n "${INPUT_CONFIG:-}" ]]; then args+=(--config "$INPUT_CONFIG"); fi
args+=(run)
read -r -d '' -a suites <<<"${INPUT_SUITES:-}" || true
if [[ ${#suites[@]} -eq 0 ]]; then
  echo "::error title=yardstick::the suites input is empty"
  output exit-code 2
  output verdict error
  exit 0
fi
args+=("${suites[@]}")
read -r -d '' -a targets <<<"${INPUT_TARGETS:-}" || true
for t in "${targets[@]}"; do args+=(-m "$t"); done
while IFS= read -r th; do
  th="${th#"${th%%[![:space:]]*}"}"
  if [[ -n "$th" ]]; then args+=(--threshold "$th"); fi
done <<<"${INPUT_THRESHOLDS:-}"
if [[ -n "${INPUT_BASELINE:-}" ]]; then args+=(--baseline "$INPUT_BASELINE"); fi
read -r -d '' -a extra <<<"${INPUT_ARGS:-}" || true
args+=("${extra[@]}" --out "$out")

"$bin" "${args[@]}"
code=$?
output exit-code "$code"
case "$code" in
  0) verdict=pass ;;
  99) verdict=fail ;;
  *) verdict=error ;;
esac
output verdict "$verdict"
if [[ -f "$out/report.md" ]]; then
  output report-dir "$out"
  if [[ "${INPUT_COMMENT:-true}" == "true" && -n "${GITHUB_EVENT_PATH:-}" ]]; then
    if ! "$bin" ci comment "$out/report.md" --key "${INPUT_COMMENT_KEY:-}"; then
      echo "::warning title=yardstick::could not post the report on the pull request (a fork's token is read-only; see the step summary)"
    fi
  fi
fi
exit 0
