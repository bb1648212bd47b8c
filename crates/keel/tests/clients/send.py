"""Sends events to Keel with a real analytics client library, in two waves.

Usage: send.py segment|rudder HOST WRITE_KEY EVENTS_PER_WAVE
Prints "wave1 sent" after the first wave is flushed, then waits for a line on stdin before sending
the second wave (so the test can restart the server in between). Exits non-zero if the library
reports a delivery error it gave up on.
"""
import sys

library, host, key, per_wave = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
errors = []

if library == "segment":
    import segment.analytics as analytics
    analytics.write_key = key
    analytics.host = host
else:
    import rudderstack.analytics as analytics
    analytics.write_key = key
    analytics.dataPlaneUrl = host
analytics.max_retries = 12
analytics.on_error = lambda error, items: errors.append(str(error))


def wave(n, offset):
    for i in range(offset, offset + n):
        user = "user-%d" % (i % 25)
        if i % 10 == 0:
            analytics.identify(user, {"email": "%s@example.com" % user, "plan": "pro"})
        elif i % 10 == 1:
            analytics.page(user, "Docs", "Pricing", {"path": "/pricing"})
        else:
            analytics.track(user, "Product Viewed", {"sku": "SS-%d" % i, "price": 249.0})
    analytics.flush()


wave(per_wave, 0)
print("wave1 sent", flush=True)
sys.stdin.readline()
wave(per_wave, per_wave)
analytics.shutdown() if hasattr(analytics, "shutdown") else analytics.flush()
if errors:
    print("delivery errors: %s" % errors, file=sys.stderr)
    sys.exit(1)
print("wave2 sent", flush=True)
