#!/usr/bin/env python3
"""Generate fixture.json: reference values for package analysis/compare.

Computed independently of the Go code with numpy and scipy:

  * mcnemar: 2x2 tables of paired pass/fail outcomes, with the exact McNemar
    p-value (scipy.stats.binomtest on the discordant pairs) and the unpaired
    two-sample z-test p-value of lm-evaluation-harness's model_comparator.py
    (standard errors sqrt(p(1-p)/(n-1))). The first table reproduces the
    contrast quoted in lm-eval PR #3868 (n = 220: unpaired p = 0.080, McNemar
    p = 0.008); the second is Agresti's presidential-approval table
    (Agresti, "An Introduction to Categorical Data Analysis", 2nd ed., Table 10.1:
    794 approve/approve, 150 approve/disapprove, 86 disapprove/approve,
    570 disapprove/disapprove).
  * paired: per-result records (case, arm, repeat, score, pass) of two arms A
    and B with uneven repeats; the reference pairs cases, averages repeats per
    case, and computes for pass and score: the mean difference, the percentile
    paired bootstrap interval with numpy (200,000 resamples, linear
    percentiles), its two-sided percentile p-value
    min(1, 2*min(#{t<=0}+1, #{t>=0}+1)/(B+1)), the Wilcoxon signed-rank p-value
    (scipy, zero_method="wilcox", correction=True, normal approximation since
    the differences have ties), and the standard error of the mean difference
    (for the Go test's Monte Carlo tolerance).

Reproduce (from this directory):
    python3 -m venv /tmp/statsvenv
    /tmp/statsvenv/bin/pip install scipy==1.17.1 numpy==2.4.6
    /tmp/statsvenv/bin/python gen_fixture.py > fixture.json
"""
import json
import math
import sys

import numpy as np
import scipy
import scipy.stats as st

out = {"generator": "gen_fixture.py",
       "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__}}


def unpaired_z(both, a_only, b_only, neither):
    n = both + a_only + b_only + neither
    pa, pb = (both + a_only) / n, (both + b_only) / n
    se = math.sqrt(pa * (1 - pa) / (n - 1) + pb * (1 - pb) / (n - 1))
    return float(2 * st.norm.sf(abs(pa - pb) / se))


tables = []
for name, (both, a_only, b_only, neither) in [("lm-eval PR#3868 (n=220)", (110, 30, 12, 68)),
                                              ("Agresti Table 10.1", (794, 150, 86, 570))]:
    tables.append({"name": name, "both": both, "a_only": a_only, "b_only": b_only, "neither": neither,
                   "mcnemar_p": float(st.binomtest(min(a_only, b_only), a_only + b_only, 0.5).pvalue),
                   "unpaired_p": unpaired_z(both, a_only, b_only, neither)})
out["mcnemar"] = tables

# Paired data: 60 cases; some cases repeated in A (3 runs) or B (2 runs).
gen = np.random.default_rng(20240601)
records = []
for i in range(60):
    cid = "c%03d" % i
    difficulty = gen.uniform(0.1, 0.9)
    for arm, reps, shift in (("A", 3 if i < 10 else 1, 0.0), ("B", 2 if 5 <= i < 15 else 1, 0.06)):
        for r in range(reps):
            s = float(np.clip(np.round(difficulty + shift + gen.normal(0, 0.15), 2), 0, 1))
            records.append({"case_id": cid, "arm": arm, "repeat": r, "score": s, "pass": bool(s >= 0.5)})
out["records"] = records

B = 200_000
boot = np.random.default_rng(7)


def reference(metric):
    by = {}
    for rec in records:
        v = rec["score"] if metric == "score" else float(rec["pass"])
        by.setdefault((rec["arm"], rec["case_id"]), []).append(v)
    ids = sorted({rec["case_id"] for rec in records})
    a = np.array([np.mean(by[("A", c)]) for c in ids])
    b = np.array([np.mean(by[("B", c)]) for c in ids])
    d = b - a
    n = len(d)
    idx = boot.integers(0, n, size=(B, n))
    thetas = d[idx].mean(axis=1)
    lo, hi = np.percentile(thetas, [2.5, 97.5], method="linear")
    le, ge = int((thetas <= 0).sum()), int((thetas >= 0).sum())
    p_boot = min(1.0, 2 * (min(le, ge) + 1) / (B + 1))
    w = st.wilcoxon(d, zero_method="wilcox", correction=True, method="approx")
    return {"n": n, "value_a": float(a.mean()), "value_b": float(b.mean()), "delta": float(d.mean()),
            "low": float(lo), "high": float(hi), "p_bootstrap": p_boot, "p_wilcoxon": float(w.pvalue),
            "se": float(d.std(ddof=1) / math.sqrt(n)), "resamples": B,
            "a_higher": int((a > b).sum()), "b_higher": int((b > a).sum())}


out["paired"] = {"level": 0.95, "pass_rate": reference("pass_rate"), "score": reference("score")}
json.dump(out, sys.stdout, indent=1)
sys.stdout.write("\n")
