"""Independent exact solution of the order-k Markov removal-effect model with scipy's sparse
direct solver (SuperLU), compared with Keel's output.

    python check_exact.py PATHS.csv ORDER KEEL_OUT.csv

Builds the chain with ChannelAttribution's conventions (sliding windows of k channels, a shorter
path is one state, consecutive identical states collapsed; start weighted by conversions + nulls,
last state → conversion by conversions, → null by nulls), solves (I − Q) x = b for the baseline and
for each channel removed, shares conversions and value in proportion to removal effects, and prints
the largest difference from Keel's attributed conversions and value.
"""

import csv
import sys
from collections import defaultdict

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla


def main():
    src, order, keel_out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    state_id = {}
    start = defaultdict(float)
    edges = defaultdict(float)
    conv_w = defaultdict(float)
    null_w = defaultdict(float)
    value_w = defaultdict(float)
    # Identical paths add up in every count of the chain, so aggregate them first (pandas).
    data = pd.read_csv(src, usecols=["path", "total_conversions", "total_conversion_value", "total_null"])
    total_conv = float(data["total_conversions"].sum())
    total_value = float(data["total_conversion_value"].sum())
    grouped = data.groupby("path", sort=False).sum()
    for path, c, v, nl in zip(grouped.index, grouped["total_conversions"], grouped["total_conversion_value"],
                              grouped["total_null"]):
        ch = tuple(x.strip() for x in path.split(">"))
        w = c + nl
        if w <= 0:
            continue
        if len(ch) <= order:
            wins = [ch]
        else:
            wins = [ch[j:j + order] for j in range(len(ch) - order + 1)]
        seq = []
        for win in wins:
            s = state_id.setdefault(win, len(state_id))
            if seq and seq[-1] == s:
                continue
            seq.append(s)
        start[seq[0]] += w
        for a, b in zip(seq, seq[1:]):
            edges[(a, b)] += w
        conv_w[seq[-1]] += c
        null_w[seq[-1]] += nl
        value_w[seq[-1]] += v
    n = len(state_id)
    out = np.zeros(n)
    for (a, _), w in edges.items():
        out[a] += w
    for s in range(n):
        out[s] += conv_w[s] + null_w[s]
    rows, cols, vals = [], [], []
    for (a, b), w in edges.items():
        rows.append(a)
        cols.append(b)
        vals.append(w / out[a])
    q = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    b_conv = np.array([conv_w[s] / out[s] for s in range(n)])
    b_val = np.array([value_w[s] / out[s] for s in range(n)])
    p0 = np.zeros(n)
    for s, w in start.items():
        p0[s] = w
    p0 /= p0.sum()

    def solve(keep):
        idx = np.nonzero(keep)[0]
        a = sp.identity(len(idx), format="csc") - q[idx][:, idx].tocsc()
        x = spla.spsolve(a, np.column_stack([b_conv[idx], b_val[idx]]))
        x = x.reshape(len(idx), 2)
        return float(p0[idx] @ x[:, 0]), float(p0[idx] @ x[:, 1])

    base = solve(np.ones(n, dtype=bool))
    channels = sorted({c for win in state_id for c in win})
    re_c, re_v = {}, {}
    for c in channels:
        keep = np.array([c not in win for win in sorted(state_id, key=state_id.get)])
        p, v = solve(keep)
        re_c[c] = max(base[0] - p, 0.0)
        re_v[c] = max(base[1] - v, 0.0)
    sc, sv = sum(re_c.values()), sum(re_v.values())
    exact = {c: (total_conv * re_c[c] / sc, total_value * re_v[c] / sv) for c in channels}
    keel = {}
    with open(keel_out, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            keel[r["channel"]] = (float(r["conversions"]), float(r["value"]))
    d_conv = max(abs(keel[c][0] - exact[c][0]) for c in channels)
    d_val = max(abs(keel[c][1] - exact[c][1]) for c in channels)
    rel = max(max(abs(keel[c][0] - exact[c][0]) / max(exact[c][0], 1e-300),
                  abs(keel[c][1] - exact[c][1]) / max(exact[c][1], 1e-300)) for c in channels)
    print(f"states={n} max_abs_diff_conversions={d_conv:.3e} max_abs_diff_value={d_val:.3e} max_rel_diff={rel:.3e}")


if __name__ == "__main__":
    main()
