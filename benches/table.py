#!/usr/bin/env python3
"""Prints hyperfine's JSON export as a Markdown table of median, mean ± σ and min, in ms.

usage: table.py RESULTS.json [DECIMALS]
"""
import json
import statistics
import sys

decimals = int(sys.argv[2]) if len(sys.argv) > 2 else 1
print("| command | median ms | mean ± σ ms | min ms |")
print("| --- | ---: | ---: | ---: |")
for result in json.load(open(sys.argv[1]))["results"]:
    times = [t * 1000 for t in result["times"]]
    median, mean, stdev = statistics.median(times), statistics.mean(times), statistics.stdev(times)
    print(f"| {result['command']} | {median:.{decimals}f} | {mean:.{decimals}f} ± {stdev:.{decimals}f} | {min(times):.{decimals}f} |")
