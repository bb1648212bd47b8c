"""Seeded generator of customer journeys in ChannelAttribution's paths layout.

One row per journey: `path,total_conversions,total_conversion_value,total_null`. Channels follow a
first-order walk with channel-specific continuation and conversion propensities, so Markov models of
order 1 and 3 have real structure to find (and order 3 has thousands of states).

    python generate.py ROWS OUT.csv [SEED]
"""

import sys

import numpy as np

CHANNELS = [
    "Paid Search", "Organic Search", "Email", "Direct", "Paid Social", "Organic Social",
    "Display", "Referral", "Affiliates", "Paid Video", "SMS", "Organic Video",
]


def main():
    rows = int(sys.argv[1])
    out = sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 42
    rng = np.random.default_rng(seed)
    n = len(CHANNELS)
    first = rng.dirichlet(np.ones(n) * 2.0)
    trans = rng.dirichlet(np.ones(n) * 0.7, size=n)
    # Repeating the same channel is common (several email opens in a row).
    trans = 0.75 * trans + 0.25 * np.eye(n)
    cont = rng.uniform(0.45, 0.75, size=n)     # P(another touch) after each channel
    lift = rng.uniform(0.02, 0.12, size=n)     # conversion propensity of each channel
    value_mean = rng.uniform(40, 200, size=n)
    cum_first = np.cumsum(first)
    cum_trans = np.cumsum(trans, axis=1)
    chunk = 200_000
    with open(out, "w", encoding="utf-8") as f:
        f.write("path,total_conversions,total_conversion_value,total_null\n")
        done = 0
        while done < rows:
            m = min(chunk, rows - done)
            cur = np.searchsorted(cum_first, rng.random(m))
            cur = np.minimum(cur, n - 1)
            paths = [[CHANNELS[c]] for c in cur]
            alive = np.ones(m, dtype=bool)
            score = lift[cur].copy()
            steps = 1
            while alive.any() and steps < 20:
                go = alive & (rng.random(m) < cont[cur])
                alive = go
                idx = np.nonzero(go)[0]
                if idx.size == 0:
                    break
                u = rng.random(idx.size)
                nxt = np.array([np.searchsorted(cum_trans[cur[i]], x) for i, x in zip(idx, u)]) if idx.size < 64 else \
                    np.minimum((u[:, None] > cum_trans[cur[idx]]).sum(axis=1), n - 1)
                cur[idx] = nxt
                score[idx] = 1 - (1 - score[idx]) * (1 - lift[nxt])
                for i, c in zip(idx.tolist(), nxt.tolist()):
                    paths[i].append(CHANNELS[c])
                steps += 1
            conv = rng.random(m) < score
            value = np.where(conv, np.round(rng.gamma(2.0, value_mean[cur] / 2.0), 2), 0.0)
            lines = []
            for p, c, v in zip(paths, conv.tolist(), value.tolist()):
                lines.append(f"{' > '.join(p)},{int(c)},{v if c else 0},{0 if c else 1}\n")
            f.write("".join(lines))
            done += m


if __name__ == "__main__":
    main()
