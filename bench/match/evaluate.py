"""Scores pair and cluster outputs against the generated ground truth and prints a comparison.

Usage: evaluate.py LEADS.csv (NAME PAIRS.csv CLUSTERS.csv TIMEFILE)...
"""
import csv
import sys
from collections import Counter, defaultdict


def load_truth(path):
    with open(path, newline="") as f:
        return {r["id"]: r["true_entity"] for r in csv.DictReader(f)}


def prf(tp, predicted, actual):
    p = tp / predicted if predicted else 0.0
    r = tp / actual if actual else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def evaluate(truth, pairs_path, clusters_path):
    actual = sum(n * (n - 1) // 2 for n in Counter(truth.values()).values())
    seen, tp = set(), 0
    with open(pairs_path, newline="") as f:
        for r in csv.DictReader(f):
            a, b = sorted((r["id_l"], r["id_r"]))
            if (a, b) in seen:
                continue
            seen.add((a, b))
            tp += truth[a] == truth[b]
    pairwise = prf(tp, len(seen), actual)
    clusters = defaultdict(list)
    with open(clusters_path, newline="") as f:
        for r in csv.DictReader(f):
            clusters[r["cluster_id"]].append(truth[r["id"]])
    predicted_c = sum(len(m) * (len(m) - 1) // 2 for m in clusters.values())
    tp_c = sum(n * (n - 1) // 2 for m in clusters.values() for n in Counter(m).values())
    return pairwise, prf(tp_c, predicted_c, actual), len(clusters)


def main():
    truth = load_truth(sys.argv[1])
    rows = []
    args = sys.argv[2:]
    for i in range(0, len(args), 4):
        name, pairs, clusters, timefile = args[i : i + 4]
        # GNU time line: wall seconds, peak resident KB, user seconds, system seconds.
        wall, rss_kb, user, system = open(timefile).read().split()[-4:]
        pw, cl, n = evaluate(truth, pairs, clusters)
        rows.append((name, pw, cl, n, float(wall), float(user) + float(system), int(rss_kb) / 1024))
    print(f"{'tool':<8} {'pair P':>7} {'pair R':>7} {'pair F1':>7} {'clus P':>7} {'clus R':>7} {'clus F1':>7} {'clusters':>9} {'wall s':>8} {'CPU s':>8} {'peak MB':>8}")
    for name, pw, cl, n, wall, cpu, mb in rows:
        print(f"{name:<8} {pw[0]:7.4f} {pw[1]:7.4f} {pw[2]:7.4f} {cl[0]:7.4f} {cl[1]:7.4f} {cl[2]:7.4f} {n:9d} {wall:8.1f} {cpu:8.1f} {mb:8.0f}")
    if len(rows) == 2:
        (_, _, _, _, w0, c0, m0), (_, _, _, _, w1, c1, m1) = rows
        print(f"ratios {rows[1][0]}/{rows[0][0]}: wall time {w1 / w0:.1f}x, CPU time {c1 / c0:.1f}x, peak memory {m1 / m0:.1f}x; "
              f"F1 pairwise {rows[0][1][2]:.4f} vs {rows[1][1][2]:.4f}, clusters {rows[0][2][2]:.4f} vs {rows[1][2][2]:.4f}")


main()
