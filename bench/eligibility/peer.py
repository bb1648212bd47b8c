"""Peer implementation of Keel's eligibility rules in NumPy, the usual vectorised tool for
scoring a whole audience in a data team. Reads the columns Keel's benchmark driver dumped, applies
the same rules with whole-column operations, and prints time and reason counts as JSON so run.sh
can check both produce the same answer."""
import json
import sys
import time
from datetime import datetime, time as dtime
from zoneinfo import ZoneInfo

import numpy as np

REASONS = None


def load(d, name, dtype):
    return np.fromfile(f"{d}/{name}.bin", dtype=dtype)


def main(d, runs):
    meta = json.load(open(f"{d}/meta.json"))
    n = meta["contacts"]
    cols = {
        "jurisdiction": load(d, "jurisdiction", "<u2"),
        "time_zone": load(d, "time_zone", "<u2"),
        "consent": load(d, "consent", "u1"),
        "flags": load(d, "flags", "u1"),
        "topics": load(d, "topics_opted_out", "<u8"),
        "ch_out": load(d, "channels_opted_out", "u1"),
        "reach": load(d, "channels_reachable", "u1"),
        "supp_ch": load(d, "suppressed_channels", "u1"),
        "brand": load(d, "brand_acme", "<u4"),
        "cap": load(d, "max_sends_per_week", "<u2"),
        "s7": load(d, "sends_7d", "<u2"),
        "s30": load(d, "sends_30d", "<u2"),
    }
    codes = meta["reasons"]
    bit = {c: np.uint32(1 << i) for i, c in enumerate(codes)}
    # Per-dictionary facts: index len(...) is the "unknown" entry (strict defaults, UTC).
    opt_in = np.array([j["opt_in"] for j in meta["jurisdictions"]] + [True])
    now = datetime.fromisoformat(meta["now"])
    start, end = dtime(21, 0), dtime(8, 0)

    def quiet(tz):
        t = now.astimezone(ZoneInfo(tz)).time().replace(second=0, microsecond=0)
        return (t >= start) or (t < end)

    quiet_zone = np.array([quiet(z) for z in meta["time_zones"]] + [quiet("UTC")])
    channel = np.uint8(meta["channel_bit"])
    topic = np.uint64(1 << meta["topic"])

    def evaluate():
        j = cols["jurisdiction"].astype(np.int64)
        j = np.where(j >= len(opt_in) - 1, len(opt_in) - 1, j)
        tz = cols["time_zone"].astype(np.int64)
        tz = np.where(tz >= len(quiet_zone) - 1, len(quiet_zone) - 1, tz)
        r = np.zeros(n, dtype=np.uint32)
        c = cols["consent"]
        r |= np.where(c == 2, bit["consent_denied"], 0).astype(np.uint32)
        r |= np.where(c == 3, bit["consent_withdrawn"], 0).astype(np.uint32)
        r |= np.where((c == 0) & opt_in[j], bit["no_consent"], 0).astype(np.uint32)
        r |= np.where((cols["topics"] & topic) != 0, bit["topic_opted_out"], 0).astype(np.uint32)
        r |= np.where((cols["ch_out"] & channel) != 0, bit["channel_opted_out"], 0).astype(np.uint32)
        cap = cols["cap"]
        r |= np.where((cap > 0) & (cols["s7"] >= cap), bit["preference_frequency_cap"], 0).astype(np.uint32)
        r |= np.where(cols["s30"] >= meta["policy_cap_month"], bit["policy_frequency_cap"], 0).astype(np.uint32)
        r |= np.where((cols["reach"] & channel) == 0, bit["no_address_for_channel"], 0).astype(np.uint32)
        r |= np.where((cols["flags"] & 2) != 0, bit["suppressed_global"], 0).astype(np.uint32)
        r |= np.where((cols["supp_ch"] & channel) != 0, bit["suppressed_channel"], 0).astype(np.uint32)
        r[cols["brand"]] |= bit["suppressed_brand"]
        r |= np.where(quiet_zone[tz], bit["quiet_hours"], 0).astype(np.uint32)
        return r

    times = []
    for _ in range(runs):
        t = time.perf_counter()
        r = evaluate()
        times.append(time.perf_counter() - t)
    times.sort()
    by_reason = {}
    for code in codes:
        count = int(np.count_nonzero(r & bit[code]))
        if count:
            by_reason[code] = count
    print(json.dumps({
        "contacts": n,
        "best_seconds": times[0],
        "median_seconds": times[len(times) // 2],
        "contacts_per_second": round(n / times[0]),
        "eligible": int(np.count_nonzero(r == 0)),
        "by_reason": by_reason,
    }, indent=2, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5)
