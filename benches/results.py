"""Reading hyperfine's JSON exports, for table.py and goal.py."""
import json
import statistics


def load(files):
    """Every command's run times in ms, merged over the files, in the order first met."""
    times = {}
    for path in files:
        with open(path) as f:
            for result in json.load(f)["results"]:
                times.setdefault(result["command"], []).extend(t * 1000 for t in result["times"])
    return times


def median(runs):
    return statistics.median(runs)
