#!/usr/bin/env python3
"""Summarise fdatasync activity per WAL flush thread from `perf script` output.

Record (tracepoints only, no hardware counters needed):

    BENCH_ONLY=3x256 BENCH_SECS=3 BENCH_FSYNC_SECS=0 perf record -q -o /tmp/fs.data \
        -e syscalls:sys_enter_fdatasync,syscalls:sys_exit_fdatasync,syscalls:sys_enter_writev \
        -- target/release/deps/durable_writes-<hash>
    perf script -i /tmp/fs.data -F comm,tid,time,event | python3 benches/scripts/fsync_timeline.py

For each raft-log flush worker thread (`chunked_wal_flu…`, one per node) it prints the
number of fdatasync calls, their duration, and the gap from one fdatasync's return to the
next batch write: the time the worker spent waiting for work (including raft-log's
`flush_batch_wait`). Compare the count with the bench's "last log index" to get log
entries per fsync.
"""
import collections
import re
import sys

LINE = re.compile(r"\s*(\S.*?)\s+(\d+)\s+([\d.]+):\s+(\S+):")


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1e3


def main():
    by_thread = collections.defaultdict(list)
    for line in sys.stdin:
        m = LINE.match(line)
        if m:
            comm, tid, ts, event = m.group(1), int(m.group(2)), float(m.group(3)), m.group(4)
            by_thread[tid].append((ts, event, comm))
    for tid, events in sorted(by_thread.items()):
        if not events[0][2].startswith("chunked_wal"):
            continue
        durations, gaps = [], []
        count, entered, last_exit = 0, None, None
        for ts, event, _ in events:
            if event.endswith("enter_fdatasync"):
                entered, count = ts, count + 1
            elif event.endswith("exit_fdatasync") and entered is not None:
                durations.append(ts - entered)
                last_exit = ts
            elif event.endswith("enter_writev") and last_exit is not None:
                gaps.append(ts - last_exit)
                last_exit = None
        span = events[-1][0] - events[0][0]
        busy = sum(durations) / span * 100 if span else 0.0
        mean = sum(durations) / len(durations) * 1e3 if durations else float("nan")
        print(
            f"thread {tid}: {count} fdatasync in {span:.2f} s; "
            f"fdatasync ms p50 {pct(durations, .5):.3f} p99 {pct(durations, .99):.3f} mean {mean:.3f}; "
            f"gap to next write ms p50 {pct(gaps, .5):.3f} p99 {pct(gaps, .99):.3f}; "
            f"in fdatasync {busy:.0f}% of the time"
        )


if __name__ == "__main__":
    main()
