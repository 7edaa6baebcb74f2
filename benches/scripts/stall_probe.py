#!/usr/bin/env python3
"""A stall probe to run beside a load: sleeps 1 ms in a loop for SECONDS and records every
wake-up that came more than 20 ms late, with the CPU time the hypervisor stole from each
CPU meanwhile (the `steal` column of /proc/stat). A stall that the probe, a process apart
from the server, sees together with as much stolen time is the machine's, not the server's.
Writes JSON to stdout.

    python3 benches/scripts/stall_probe.py SECONDS > stalls.json
"""
import json
import os
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")


def steal_per_cpu():
    out = []
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3] != " ":
                fields = line.split()
                out.append(int(fields[8]) if len(fields) > 8 else 0)
    return out


def main():
    seconds = float(sys.argv[1])
    end = time.monotonic() + seconds
    prev, prev_steal = time.monotonic(), steal_per_cpu()
    start_steal = prev_steal
    wakeups, stalls = 0, []
    while time.monotonic() < end:
        time.sleep(0.001)
        now, steal = time.monotonic(), steal_per_cpu()
        wakeups += 1
        gap_ms = (now - prev) * 1000
        if gap_ms > 20:
            stolen = [(b - a) * 1000 / HZ for a, b in zip(prev_steal, steal)]
            stalls.append({"gap_ms": round(gap_ms, 1), "stolen_ms_per_cpu": stolen})
        prev, prev_steal = now, steal
    total = [(b - a) * 1000 / HZ for a, b in zip(start_steal, prev_steal)]
    # A stall is the machine's when some CPU lost at least 80 % of the gap to steal (the
    # counter ticks every 1/HZ s, so a short gap can show one tick more or less).
    stolen = [s for s in stalls if max(s["stolen_ms_per_cpu"], default=0) >= 0.8 * s["gap_ms"] - 1000 / HZ]
    json.dump({
        "seconds": seconds,
        "wakeups": wakeups,
        "stalls_over_20ms": len(stalls),
        "stalls_with_steal": len(stolen),
        "max_gap_ms": max((s["gap_ms"] for s in stalls), default=None),
        "steal_ms_per_cpu": total,
        "stalls": stalls[:50],
    }, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
