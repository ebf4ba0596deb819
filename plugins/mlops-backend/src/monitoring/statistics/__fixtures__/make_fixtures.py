"""Writes scipy.json: the test vectors of Loopline's drift statistics.

Run with scipy >= 1.10 (made with scipy 1.17.1, numpy 2.4):
    python3 make_fixtures.py > scipy.json

The Evidently methods below repeat Evidently's code
(src/evidently/legacy/calculations/stattests/*.py, utils.get_binned_data) on
numpy arrays, so the values are scipy's and numpy's own. Large samples are
not stored: both sides build them from integer formulas (see `series`).
"""
import json
import random

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance


def series(n, a, p, offset=0, modulo=None):
    """Integers ((i * a) % p) + offset for i in 0..n-1, optionally % modulo (ties)."""
    v = (np.arange(n, dtype=np.int64) * a) % p
    if modulo:
        v = v % modulo
    return (v + offset).astype(float)


def binned(ref, cur, numerical, feel_zeroes):
    ref = np.asarray(ref)
    cur = np.asarray(cur)
    if numerical and len(np.unique(ref)) > 20:
        bins = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        rp = np.histogram(ref, bins)[0] / len(ref)
        cp = np.histogram(cur, bins)[0] / len(cur)
    else:
        keys = sorted(set(ref.tolist()) | set(cur.tolist()))
        rv = {k: 0 for k in keys}
        cv = {k: 0 for k in keys}
        for x in ref.tolist():
            rv[x] += 1
        for x in cur.tolist():
            cv[x] += 1
        rp = np.array([rv[k] / len(ref) for k in keys])
        cp = np.array([cv[k] / len(cur) for k in keys])
    if feel_zeroes:
        for arr in (rp, cp):
            m = min(arr[arr != 0])
            np.place(arr, arr == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return rp, cp


def chisq(ref, cur):
    keys = sorted(set(ref) | set(cur))
    k_norm = len(cur) / len(ref)
    f_exp = [ref.count(k) * k_norm for k in keys]
    f_obs = [cur.count(k) for k in keys]
    r = stats.chisquare(f_obs, f_exp)
    return float(r.statistic), float(r.pvalue)


def ztest(ref, cur):
    if len(set(ref)) == 1 and len(set(cur)) == 1 and set(ref) == set(cur):
        return 0.0, 1.0
    key = sorted(set(ref) | set(cur))[0]
    n1, n2 = len(ref), len(cur)
    p1 = sum(1 for x in ref if x == key) / n1
    p2 = sum(1 for x in cur if x == key) / n2
    P = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2))
    return float(z), float(2 * stats.norm.sf(abs(z)))


def distances(ref, cur, numerical=True):
    ref = np.asarray(ref)
    cur = np.asarray(cur)
    rp, cp = binned(ref, cur, numerical, True)
    psi = float(np.sum((rp - cp) * np.log(rp / cp)))
    kl = float(stats.entropy(rp, cp))
    rj, cj = binned(ref, cur, numerical, False)
    js = float(distance.jensenshannon(rj, cj))
    out = {"psi": psi, "kl_div": kl, "jensenshannon": js}
    if numerical:
        out["wasserstein"] = float(stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001))
    return out


generated = {
    # name: (n1, a1, p1, off1, mod1, n2, a2, p2, off2, mod2)
    "equal_100": (100, 37, 101, 0, None, 100, 41, 103, 5, None),
    "ties_300_400": (300, 7, 97, 0, 13, 400, 11, 89, 1, 13),
    "unequal_500_800": (500, 37, 1009, 0, None, 800, 53, 1013, 40, None),
    "equal_1000_tiny_shift": (1000, 389, 1009, 0, None, 1000, 397, 1013, 3, None),
    "exact_9000_10000": (9000, 7919, 10007, 0, None, 10000, 7907, 10009, 150, None),
    "asymp_12000_15000_small": (12000, 7919, 12007, 0, None, 15000, 104729, 15013, 20, None),
    "asymp_20000_20000_large": (20000, 7919, 20011, 0, None, 20000, 104723, 20021, 3000, None),
    "asymp_30_12000": (30, 7, 31, 0, None, 12000, 7919, 12007, 0, None),
    "asymp_150_20000": (150, 13, 151, 0, None, 20000, 7919, 20011, 0, None),
    "asymp_5_11000": (5, 3, 7, 0, None, 11000, 7919, 11003, 0, None),
    "asymp_100000_100000": (100000, 7919, 100003, 0, None, 100000, 104729, 100019, 400, None),
}

ks_generated = []
for name, (n1, a1, p1, o1, m1, n2, a2, p2, o2, m2) in generated.items():
    x = series(n1, a1, p1, o1, m1)
    y = series(n2, a2, p2, o2, m2)
    r = stats.ks_2samp(x, y)
    ks_generated.append({
        "name": name,
        "a": [n1, a1, p1, o1, m1],
        "b": [n2, a2, p2, o2, m2],
        "statistic": float(r.statistic),
        "pValue": float(r.pvalue),
        "distances": distances(x, y) if n1 >= 30 else None,
    })

ks_literal = []
literal = {
    "one_each": ([1.0], [2.0]),
    "identical": ([1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0]),
    "disjoint_5_7": ([1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0]),
    "ties": ([1.0, 1.0, 2.0, 2.0, 2.0, 3.0], [2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 4.0, 5.0]),
    "tiny_3_4": ([0.1, 0.5, 0.9], [0.3, 0.7, 1.1, 1.5]),
    "negative_and_zero": ([-1.5, -0.0, 0.0, 2.25, 3.0, -7.0], [-1.0, 0.5, 0.5, 8.0]),
}
for name, (x, y) in literal.items():
    r = stats.ks_2samp(x, y)
    ks_literal.append({"name": name, "a": x, "b": y, "statistic": float(r.statistic), "pValue": float(r.pvalue)})

kstwo = []
for n in [1, 2, 5, 10, 50, 100, 140, 141, 500, 1000, 5000, 50000, 100000, 100001, 250000]:
    for x in [0.0005, 0.001, 0.003, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.6, 0.9, 0.99]:
        kstwo.append({"n": n, "x": x, "sf": float(stats.kstwo.sf(x, n))})

rng = random.Random(20261207)
colors = ["red", "white", "rose"]
cat_ref = [rng.choice(colors) for _ in range(400)]
cat_cur = [rng.choices(colors, weights=[5, 3, 2])[0] for _ in range(300)]
cat_new = cat_cur[:250] + ["orange"] * 50
bin_ref = [rng.choice(["yes", "no"]) for _ in range(500)]
bin_cur = [rng.choices(["yes", "no"], weights=[7, 3])[0] for _ in range(450)]

categorical = []
for name, (x, y) in {
    "three_colors": (cat_ref, cat_cur),
    "new_category": (cat_ref, cat_new),
    "binary": (bin_ref, bin_cur),
    "same_constant": (["a"] * 10, ["a"] * 7),
}.items():
    entry = {"name": name, "reference": x, "current": y}
    if len(set(x) | set(y)) > 2:
        entry["chisquare"] = chisq(x, y)
    else:
        entry["z"] = ztest(x, y)
    if name != "same_constant":
        entry["distances"] = distances(x, y, numerical=False)
    categorical.append(entry)

# ADWIN: river's docstring example stream (change reported at index 1023).
arng = random.Random(12345)
adwin_stream = arng.choices([0, 1], k=1000) + arng.choices(range(4, 8), k=1000)

def json_safe(x):
    """JSON has no infinity: write it as the string "Infinity" (Number() reads it)."""
    if isinstance(x, float) and not np.isfinite(x):
        return "Infinity" if x > 0 else "-Infinity"
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    return x


print(json.dumps(json_safe({
    "scipy": scipy.__version__,
    "numpy": np.__version__,
    "ksLiteral": ks_literal,
    "ksGenerated": ks_generated,
    "kstwo": kstwo,
    "categorical": categorical,
    "adwinStream": adwin_stream,
}), allow_nan=False))
