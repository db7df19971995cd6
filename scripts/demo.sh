#!/usr/bin/env bash
# demo.sh — Yardstick's main job, offline (`make demo`):
#   1. export the training split of the built-in customer-support suite as
#      OpenAI chat fine-tuning JSONL;
#   2. train a small LLaMA-architecture model from scratch on it, on the CPU;
#   3. run the suite's held-out cases on the untrained base and on the
#      fine-tuned model (and on openai:gpt-4o-mini when OPENAI_API_KEY is set);
#   4. print the comparison — the lift with its 95% interval — and write the
#      reports to $OUT/run (report.html, report.md, junit.xml, summary.json).
# Needs bin/yardstick-torch (make build-torch, which `make demo` runs first).
# Knobs: DEMO_OUT (default runs/demo), DEMO_STEPS, DEMO_THREADS.
set -euo pipefail
cd "$(dirname "$0")/.."

Y=bin/yardstick-torch
OUT=${DEMO_OUT:-runs/demo}
STEPS=${DEMO_STEPS:-300}
THREADS=${DEMO_THREADS:-0}

rm -rf "$OUT"
mkdir -p "$OUT"

echo "== 1/3 export the training split"
"$Y" suites export customer-support --split train -o "$OUT/train.jsonl"
echo "   $(wc -l <"$OUT/train.jsonl") training conversations in $OUT/train.jsonl"

echo "== 2/3 fine-tune a small model from scratch ($STEPS steps)"
"$Y" finetune --data "$OUT/train.jsonl" --base scratch:tiny --out "$OUT/model" \
	--max-steps "$STEPS" --lr 1e-3 --warmup 20 --batch-size 16 --seq-len 192 \
	--eval-fraction 0.1 --eval-every 200 --checkpoint-every 200 --log-every 50 --threads "$THREADS"

targets=(-m "local:$OUT/model/base" -m "local:$OUT/model")
if [[ -n "${OPENAI_API_KEY:-}" ]]; then
	targets+=(-m openai:gpt-4o-mini)
	echo "   OPENAI_API_KEY is set: adding openai:gpt-4o-mini to the comparison"
fi

echo "== 3/3 run the held-out cases: untrained base vs fine-tuned"
# The suite's own thresholds (pass_rate >= 0.8) are for production models; the
# demo shows the comparison instead of gating on them.
"$Y" run customer-support --split test --no-thresholds --out "$OUT/run" "${targets[@]}"
