"""Runs ChannelAttribution on a paths file and writes long-format results.

    python peer_ca.py heuristic|markov PATHS.csv OUT.csv [ORDER] [NCORE]

Prints `seconds=<wall time of the model call alone, excluding reading the CSV>` and
`cpu_seconds=<CPU time of the call over all threads>`.
"""

import sys
import time

import pandas as pd
from ChannelAttribution import heuristic_models, markov_model


def main():
    what, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
    order = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    ncore = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    data = pd.read_csv(src)
    rows = []
    if what == "heuristic":
        t0, c0 = time.perf_counter(), time.process_time()
        res = heuristic_models(data, "path", "total_conversions", var_value="total_conversion_value", flg_pro=False)
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        for name, col in (("first_touch", "first_touch"), ("last_touch", "last_touch"), ("linear", "linear_touch")):
            for _, r in res.iterrows():
                rows.append((name, r["channel_name"], r[f"{col}_conversions"], r[f"{col}_value"]))
    else:
        t0, c0 = time.perf_counter(), time.process_time()
        res = markov_model(data, "path", "total_conversions", var_value="total_conversion_value",
                           var_null="total_null", order=order, ncore=ncore, out_more=True, verbose=False,
                           flg_pro=False)
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        result = res["result"] if isinstance(res, dict) else res[0]
        for _, r in result.iterrows():
            rows.append((f"markov_order_{order}", r["channel_name"], r["total_conversions"], r["total_conversion_value"]))
    pd.DataFrame(rows, columns=["model", "channel", "conversions", "value"]).to_csv(out, index=False)
    print(f"seconds={secs:.3f}")
    print(f"cpu_seconds={cpu:.3f}")


if __name__ == "__main__":
    main()
