#!/usr/bin/env python3
"""Prints one line judging a goal from hyperfine's JSON export: a command's median, or its
median minus a baseline's, against a limit in ms. Judges, never fails: timing is not a test.

usage: goal.py RESULTS.json COMMAND LIMIT_MS [BASELINE]
"""
import json
import statistics
import sys

path, command, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
baseline = sys.argv[4] if len(sys.argv) > 4 else None
medians = {r["command"]: statistics.median(r["times"]) * 1000 for r in json.load(open(path))["results"]}
value = medians[command] - (medians[baseline] if baseline else 0)
what = f"added to `{baseline}`" if baseline else "median"
verdict = "met" if value < limit else "**not met**"
print(f"- goal: `{command}`, {what} {value:.2f} ms, under {limit:g} ms: {verdict}")
