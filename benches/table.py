#!/usr/bin/env python3
"""Prints hyperfine's JSON export as a Markdown table of median, mean ± σ and min, in ms; with a
BASELINE command name, also each median's difference from the baseline's.

usage: table.py RESULTS.json [DECIMALS [BASELINE]]
"""
import json
import statistics
import sys

decimals = int(sys.argv[2]) if len(sys.argv) > 2 else 1
baseline_name = sys.argv[3] if len(sys.argv) > 3 else None
results = json.load(open(sys.argv[1]))["results"]
medians = {r["command"]: statistics.median(r["times"]) * 1000 for r in results}
baseline = medians.get(baseline_name) if baseline_name else None
extra = f" added to `{baseline_name}` ms |" if baseline is not None else ""
print(f"| command | median ms | mean ± σ ms | min ms |{extra}")
print("| --- | ---: | ---: | ---: |" + (" ---: |" if baseline is not None else ""))
for result in results:
    times = [t * 1000 for t in result["times"]]
    median, mean, stdev = statistics.median(times), statistics.mean(times), statistics.stdev(times)
    row = f"| {result['command']} | {median:.{decimals}f} | {mean:.{decimals}f} ± {stdev:.{decimals}f} | {min(times):.{decimals}f} |"
    if baseline is not None:
        row += f" {median - baseline:+.{decimals}f} |"
    print(row)
