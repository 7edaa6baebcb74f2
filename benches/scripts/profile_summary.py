#!/usr/bin/env python3
"""Summarise a folded perf profile (inferno-collapse-perf output) as Markdown on stdout:
where the samples' leaf frames are (by crate or library, kernel apart), and which of
Signet's own functions are on the stack most often (inclusive share).

    python3 benches/scripts/profile_summary.py NAME FOLDED
"""
import collections
import re
import sys

name, path = sys.argv[1], sys.argv[2]
total = 0
leaf = collections.Counter()
inclusive = collections.Counter()
GROUPS = (
    ("Ed25519 / ECDSA / SHA-2 (aws-lc)", ("edwards25519", "sha512_block", "sha256_block", "p256", "ecdsa", "bn_", "aws_lc_")),
    ("kernel", ("_[k]",)),
    ("allocator (mimalloc)", ("mi_", "_mi_")),
    ("libc memcpy/memcmp", ("__mem",)),
)
for line in open(path):
    stack, _, n = line.rstrip().rpartition(" ")
    if not stack:
        continue
    n = int(n)
    total += n
    frames = stack.split(";")
    f = frames[-1]
    key = None
    for group, needles in GROUPS:
        if any(x in f for x in needles):
            key = group
            break
    if key is None:
        m = re.match(r"^<?([A-Za-z_][A-Za-z0-9_]*)(?: as [^>]*>)?::", f)
        key = m.group(1) if m else f[:60]
    leaf[key] += n
    for fr in set(frames):
        if fr.startswith("signet"):
            inclusive[fr] += n

print(f"## {name}\n")
print(f"{total:,} samples (weighted). Leaf frames, by where they are:\n")
print("| share | where |")
print("|---:|---|")
for k, v in leaf.most_common(15):
    print(f"| {100 * v / total:.1f} % | {k} |")
print("\nSignet's functions on the stack (inclusive):\n")
print("| share | function |")
print("|---:|---|")
for k, v in inclusive.most_common(15):
    print(f"| {100 * v / total:.1f} % | `{k[:140]}` |")
print()
