#!/usr/bin/env python3
"""Generate fixtures.json: reference values for package analysis/stats.

Every value here is computed by an implementation independent of the Go code:
scipy (normal quantile, exact binomial test, Wilcoxon, bootstrap), statsmodels
(Wilson interval, McNemar, Holm, Benjamini-Hochberg), numpy (percentiles) and
exact rational arithmetic (pass@k, pass^k). Newcombe's paired interval has no
scipy/statsmodels implementation; it is computed below from the published
formula (Newcombe 1998 method 10; Fagerland, Lydersen & Laake 2017 ch. 8) in
plain Python, independently of the Go code.

Reproduce:
    python3 -m venv /tmp/statsvenv
    /tmp/statsvenv/bin/pip install scipy==1.17.1 numpy==2.4.6 statsmodels
    /tmp/statsvenv/bin/python gen_fixtures.py > fixtures.json
"""
import json
import math
import sys
from fractions import Fraction

import numpy as np
import scipy
import scipy.stats as st
import statsmodels
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

out = {"generator": "gen_fixtures.py",
       "versions": {"python": sys.version.split()[0], "numpy": np.__version__,
                    "scipy": scipy.__version__, "statsmodels": statsmodels.__version__}}

# Normal quantile.
ps = [1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 0.001, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3,
      0.4, 0.425, 0.5, 0.6, 0.75, 0.9, 0.95, 0.975, 0.99, 0.999, 1 - 1e-10]
out["normal_quantile"] = [{"p": p, "x": float(st.norm.ppf(p))} for p in ps]

# Wilson score interval.
wil = []
for x, n in [(0, 1), (1, 1), (0, 20), (1, 29), (15, 148), (81, 263), (5, 10), (9, 10),
             (10, 10), (170, 200), (50, 100), (1, 100000), (99999, 100000), (7, 13)]:
    for conf in (0.90, 0.95, 0.99):
        lo, hi = proportion_confint(x, n, alpha=1 - conf, method="wilson")
        wil.append({"x": x, "n": n, "conf": conf, "low": float(lo), "high": float(hi)})
out["wilson"] = wil

# Newcombe method 10 for paired proportions, B − A.
def wilson(x, n, z):
    p = x / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    lo, hi = c - h, c + h
    if x == 0:
        lo = 0.0
    if x == n:
        hi = 1.0
    return max(0.0, lo), min(1.0, hi)

def newcombe(both, a_only, b_only, neither, conf):
    # Table: rows B pass/fail, columns A pass/fail.
    a, b, c, d = both, b_only, a_only, neither
    n = a + b + c + d
    z = st.norm.ppf(1 - (1 - conf) / 2)
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n, z)
    l2, u2 = wilson(a + c, n, z)
    den = (a + b) * (c + d) * (a + c) * (b + d)
    if den == 0:
        phi = 0.0
    else:
        A = a * d - b * c
        if A > n / 2:
            C = A - n / 2
        elif A >= 0:
            C = 0
        else:
            C = A
        phi = C / math.sqrt(den)
    th = p1 - p2
    lo = th - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    hi = th + math.sqrt(max(0.0, (p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2))
    return th, max(-1.0, lo), min(1.0, hi)

nc = []
# (both, a_only, b_only, neither). Newcombe (1998) Table II (a) is e=36, f=12,
# g=2, h=0 with the difference (e+f)/n − (e+g)/n; as B − A that is A-only=12.
for t in [(36, 12, 2, 0), (5, 5, 0, 0), (1, 0, 7, 12), (59, 16, 6, 80), (794, 150, 86, 570),
          (0, 0, 0, 10), (10, 0, 0, 0), (0, 3, 0, 0), (50, 5, 5, 40), (120, 20, 35, 25),
          (2, 1, 1, 2)]:
    for conf in (0.95, 0.99):
        v, lo, hi = newcombe(*t, conf)
        nc.append({"both": t[0], "a_only": t[1], "b_only": t[2], "neither": t[3],
                   "conf": conf, "value": v, "low": lo, "high": hi})
out["newcombe"] = nc

# Exact McNemar: two-sided exact binomial test on the discordant pairs.
mc = []
for b, c in [(150, 86), (12, 2), (0, 7), (7, 0), (1, 1), (5, 5), (3, 4), (10, 20), (0, 0),
             (0, 1), (40, 60), (5000, 5200), (1, 30), (25, 5)]:
    if b + c == 0:
        p = 1.0
    else:
        p = float(st.binomtest(min(b, c), b + c, 0.5).pvalue)
        p_sm = float(mcnemar([[0, b], [c, 0]], exact=True).pvalue)
        assert abs(p - p_sm) <= 1e-12 * max(1, p), (b, c, p, p_sm)
    mc.append({"a_only": b, "b_only": c, "p": p})
out["mcnemar"] = mc

# Bootstrap intervals for a mean, with the Monte Carlo spread of the endpoints.
rng = np.random.default_rng(20240601)
datasets = {
    "lognormal30": rng.lognormal(0, 1, 30),
    "binary200": (rng.random(200) < 0.72).astype(float),
    "scores60": np.round(rng.beta(2, 1, 60), 3),
}
boot = []
for name, xs in datasets.items():
    for method in ("percentile", "BCa"):
        ref = st.bootstrap((xs,), np.mean, n_resamples=200000, method=method,
                           confidence_level=0.95, random_state=np.random.default_rng(1))
        lows, highs = [], []
        for s in range(12):
            r = st.bootstrap((xs,), np.mean, n_resamples=20000, method=method,
                             confidence_level=0.95, random_state=np.random.default_rng(100 + s))
            lows.append(r.confidence_interval.low)
            highs.append(r.confidence_interval.high)
        boot.append({"name": name, "method": method, "xs": [float(x) for x in xs],
                     "mean": float(np.mean(xs)),
                     "low": float(ref.confidence_interval.low),
                     "high": float(ref.confidence_interval.high),
                     "mc_sd_low": float(np.std(lows, ddof=1)),
                     "mc_sd_high": float(np.std(highs, ddof=1))})
# quantum: the spacing of attainable resample means for 0/1 data (1/n), below
# which two bootstrap implementations with different random streams cannot agree.
for bt in boot:
    bt["quantum"] = 1 / len(bt["xs"]) if bt["name"].startswith("binary") else 0.0
out["bootstrap_mean"] = boot

# Paired bootstrap of a mean difference (resampling pairs).
a = np.round(rng.beta(3, 2, 80), 2)
b = np.clip(np.round(a + rng.normal(0.03, 0.15, 80), 2), 0, 1)
ref = st.bootstrap((a, b), lambda x, y: np.mean(y - x), paired=True, n_resamples=200000,
                   method="percentile", random_state=np.random.default_rng(2))
lows, highs = [], []
for s in range(12):
    r = st.bootstrap((a, b), lambda x, y: np.mean(y - x), paired=True, n_resamples=20000,
                     method="percentile", random_state=np.random.default_rng(200 + s))
    lows.append(r.confidence_interval.low)
    highs.append(r.confidence_interval.high)
out["paired_bootstrap"] = {"a": [float(x) for x in a], "b": [float(x) for x in b],
                           "mean": float(np.mean(b - a)),
                           "low": float(ref.confidence_interval.low),
                           "high": float(ref.confidence_interval.high),
                           "mc_sd_low": float(np.std(lows, ddof=1)),
                           "mc_sd_high": float(np.std(highs, ddof=1)),
                           "wilcoxon_p": None}

# Wilcoxon signed-rank.
wx = []
cases = {
    "exact_small": [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30, -0.2],
    "exact_negative": [-3, -1.5, -2.25, 0.5, -4, -6, -0.75, -5.5],
    "exact_with_zeros": [0, 0, 1.5, -0.5, 2.5, 3.5, -4.5, 5.5, 6.5],
    "approx_ties": [1, 1, -1, 2, 2, 2, -3, 4, 4, -1, 5, 1, 2],
    "approx_large": [float(x) for x in np.round(rng.normal(0.2, 1, 80), 6)],
    "exact_n50": [float(x) for x in (np.arange(1, 51) * np.where(rng.random(50) < 0.65, 1, -1))],
}
for name, d in cases.items():
    arr = np.array(d, dtype=float)
    nz = arr[arr != 0]
    has_ties = len(np.unique(np.abs(nz))) < len(nz)
    if len(nz) <= 50 and not has_ties:
        r = st.wilcoxon(arr, zero_method="wilcox", method="exact")
        exact = True
    else:
        r = st.wilcoxon(arr, zero_method="wilcox", correction=True, method="approx")
        exact = False
    ranks = st.rankdata(np.abs(nz))
    wplus = float(np.sum(ranks[nz > 0]))
    wx.append({"name": name, "d": d, "n": int(len(nz)), "w_plus": wplus,
               "p": float(r.pvalue), "exact": exact})
out["wilcoxon"] = wx
pd_ = b - a
out["paired_bootstrap"]["wilcoxon_p"] = float(
    st.wilcoxon(pd_, zero_method="wilcox", correction=True, method="approx").pvalue)

# Holm and Benjamini-Hochberg.
mt = []
for ps in [[0.01, 0.04, 0.03, 0.005], [0.2, 0.5, 0.01, 0.011, 0.049, 0.8, 0.03],
           [0.05], [0.001, 0.001, 0.5, 0.04], [1.0, 0.9, 0.0]]:
    holm = multipletests(ps, method="holm")[1]
    bh = multipletests(ps, method="fdr_bh")[1]
    mt.append({"p": ps, "holm": [float(x) for x in holm], "bh": [float(x) for x in bh]})
out["multiple"] = mt

# Unbiased pass@k and pass^k, exactly.
def comb(n, k):
    return math.comb(n, k) if 0 <= k <= n else 0

pk = []
for n, c, k in [(10, 3, 1), (10, 3, 5), (10, 3, 8), (200, 13, 1), (200, 13, 10), (200, 13, 100),
                (5, 0, 1), (5, 5, 5), (5, 2, 3), (5, 2, 4), (100, 50, 10), (1000, 1, 500),
                (20, 19, 20), (3, 1, 2)]:
    at = 1 - Fraction(comb(n - c, k), comb(n, k))
    hat = Fraction(comb(c, k), comb(n, k))
    pk.append({"n": n, "c": c, "k": k, "pass_at_k": float(at), "pass_hat_k": float(hat)})
out["pass_k"] = pk

# Percentiles, numpy default (linear).
pc = []
for xs in [[1, 2, 3, 4], [15, 20, 35, 40, 50], [7], [3.5, 1.25, 9, 2, 2, 8.75, 100, 0.5, 4],
           list(np.round(rng.exponential(1.0, 101), 4))]:
    srt = sorted(float(x) for x in xs)
    for p in (0, 1, 5, 25, 50, 75, 90, 95, 99, 99.9, 100):
        pc.append({"sorted": srt, "p": p, "value": float(np.percentile(srt, p))})
out["percentile"] = pc

json.dump(out, sys.stdout, indent=1)
sys.stdout.write("\n")
