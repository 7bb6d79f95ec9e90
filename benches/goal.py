#!/usr/bin/env python3
"""Prints one line judging a goal from hyperfine's JSON exports: that a command's median (or
its median minus a baseline's) is under a limit in ms, or that it is faster than another
command (with --times N, at least N times faster). Judges, never fails: timing is not a test.

usage: goal.py COMMAND (--under MS [--baseline COMMAND] | --faster-than COMMAND [--times N]) RESULTS.json...
"""
import argparse

from results import load, median

parser = argparse.ArgumentParser()
parser.add_argument("command")
parser.add_argument("--under", type=float)
parser.add_argument("--baseline")
parser.add_argument("--faster-than")
parser.add_argument("--times", type=float)
parser.add_argument("files", nargs="+")
args = parser.parse_args()
times = load(args.files)
value = median(times[args.command])
if args.faster_than:
    other = median(times[args.faster_than])
    if args.times:
        verdict = "met" if value * args.times <= other else "**not met**"
        print(f"- goal: `{args.command}` at least {args.times:g} times faster than `{args.faster_than}`: "
              f"{value:.2f} ms against {other:.2f} ms, {other / value:.1f} times: {verdict}")
    else:
        verdict = "met" if value < other else "**not met**"
        print(f"- goal: `{args.command}` faster than `{args.faster_than}`: {value:.2f} ms against {other:.2f} ms: {verdict}")
else:
    what = "median"
    if args.baseline:
        value -= median(times[args.baseline])
        what = f"added to `{args.baseline}`"
    verdict = "met" if value < args.under else "**not met**"
    print(f"- goal: `{args.command}`, {what} {value:.2f} ms, under {args.under:g} ms: {verdict}")
