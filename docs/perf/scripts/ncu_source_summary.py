#!/usr/bin/env python3
"""Summarizes ncu's source page (`ncu -i REP --page source --csv --print-source sass > FILE.csv`) of one kernel launch:
stall samples before, in and after the hottest loop (instructions executed at least half as often as the most executed
one), the loop's samples by stall reason, and the most sampled instructions with their two leading reasons.
Usage: ncu_source_summary.py FILE.csv [TOP]   (session 23; the CSVs themselves are ~2 MB and not committed)."""
import csv
import sys

rows = list(csv.reader(open(sys.argv[1])))
top_n = int(sys.argv[2]) if len(sys.argv) > 2 else 16
header = next(i for i, r in enumerate(rows) if r and r[0] == "Address")
h, data = rows[header], rows[header + 1:]
samples, executed = h.index("Warp Stall Sampling (All Samples)"), h.index("Instructions Executed")
reasons = [c for c in h if c.startswith("stall_") and "(Not Issued)" not in c]
at = {c: h.index(c) for c in reasons}


def num(text):
    return int(text.replace(",", "")) if text.strip() not in ("", "-") else 0


total = sum(num(r[samples]) for r in data)
most = max(num(r[executed]) for r in data)
loop = [i for i, r in enumerate(data) if num(r[executed]) >= most // 2]
first, last = loop[0], loop[-1]
print(f"{len(data)} SASS instructions, {total} stall samples; loop = instructions {first}-{last}")
for name, span in (("before", range(0, first)), ("loop", range(first, last + 1)), ("after", range(last + 1, len(data)))):
    s = sum(num(data[i][samples]) for i in span)
    e = sum(num(data[i][executed]) for i in span)
    print(f"  {name:6} {s:6} samples ({100 * s / total:4.1f} %), {e} warp instructions executed")
by_reason = sorted(((sum(num(data[i][at[c]]) for i in range(first, last + 1)), c) for c in reasons), reverse=True)
print("loop samples by reason: " + ", ".join(f"{c[6:]} {v}" for v, c in by_reason if v > 0))
print(f"top {top_n} instructions (index, samples, executed, SASS, leading reasons):")
for i in sorted(sorted(range(len(data)), key=lambda i: -num(data[i][samples]))[:top_n]):
    r = data[i]
    lead = sorted(((num(r[at[c]]), c[6:]) for c in reasons), reverse=True)[:2]
    print(f"  {i:5} {num(r[samples]):6} {num(r[executed]):8}  {r[1].strip()[:64]:64}  " + ", ".join(f"{c} {v}" for v, c in lead if v))
