#!/usr/bin/env python3
"""Prints hyperfine's JSON exports as a Markdown table of median, mean ± σ and min, in ms; with
--baseline, also each median's difference from the baseline command's. Several exports (rounds
of the same commands, run in turn so that a burst of load on a shared machine falls on all of
them alike) are merged command by command.

usage: table.py [--decimals N] [--baseline COMMAND] RESULTS.json...
"""
import argparse

from results import load, median

parser = argparse.ArgumentParser()
parser.add_argument("--decimals", type=int, default=1)
parser.add_argument("--baseline")
parser.add_argument("files", nargs="+")
args = parser.parse_args()
times = load(args.files)
baseline = median(times[args.baseline]) if args.baseline else None
extra = f" added to `{args.baseline}` ms |" if baseline is not None else ""
print(f"| command | median ms | mean ± σ ms | min ms | runs |{extra}")
print("| --- | ---: | ---: | ---: | ---: |" + (" ---: |" if baseline is not None else ""))
d = args.decimals
for command, runs in times.items():
    mean = sum(runs) / len(runs)
    stdev = (sum((t - mean) ** 2 for t in runs) / (len(runs) - 1)) ** 0.5 if len(runs) > 1 else 0.0
    row = f"| {command} | {median(runs):.{d}f} | {mean:.{d}f} ± {stdev:.{d}f} | {min(runs):.{d}f} | {len(runs)} |"
    if baseline is not None:
        row += f" {median(runs) - baseline:+.{d}f} |"
    print(row)
