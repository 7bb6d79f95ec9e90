#!/usr/bin/env bash
# Benchmark of `sealctl check`, whole-process, beside what teams run today:
# pre-commit-hooks' `check-toml` (Python's tomllib; parses only, checks no schema or secret).
#
#   bash benches/check.sh            # prints a Markdown table; needs hyperfine and pre-commit-hooks
#
# Goals (issue 2): 1,000 files of 5 profiles in one invocation, and one file of 10,000 profiles,
# each under 100 ms wall on a 2-core machine.
# Peak memory: benches/memory.sh.
. "$(dirname "$0")/setup.sh" hyperfine check-toml
python3 benches/generate-profiles.py "$work/many" 1000 5
python3 benches/generate-profiles.py "$work/one" 1 10000

# Both must be clean, or we would be timing the printing of diagnostics.
"$sealctl" check "$work"/many/*.toml >/dev/null
"$sealctl" check "$work"/one/*.toml >/dev/null

echo "### Machine"
echo
echo "- $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "- $(rustc --version), $(python3 --version), hyperfine $(hyperfine --version | cut -d' ' -f2)"
echo "- 1,000 files: $(du -sh "$work/many" | cut -f1); one file of 10,000 profiles: $(du -h "$work"/one/*.toml | cut -f1)"
echo
runs=(--warmup 5 --min-runs "$(runs 50)" --style none)
table() { python3 "$benches/table.py" "$1"; }
cd "$work"
hyperfine "${runs[@]}" --export-json "$work/many.json" \
  -n "sealctl check, 1,000 files (2 threads)" "$sealctl check many/*.toml" \
  -n "sealctl check, 1,000 files (1 thread)" "env RAYON_NUM_THREADS=1 $sealctl check many/*.toml" \
  -n "check-toml, 1,000 files" "check-toml many/*.toml"
hyperfine "${runs[@]}" -N --export-json "$work/one.json" \
  -n "sealctl check, 10,000 profiles" "$sealctl check one/influxctl-00000.toml" \
  -n "check-toml, 10,000 profiles" "check-toml one/influxctl-00000.toml"
echo "### 1,000 files of 5 profiles, one invocation"
echo
table "$work/many.json"
echo
echo "### One file of 10,000 profiles"
echo
table "$work/one.json"
echo
python3 "$benches/goal.py" "sealctl check, 1,000 files (2 threads)" --under 100 "$work/many.json"
python3 "$benches/goal.py" "sealctl check, 10,000 profiles" --under 100 "$work/one.json"
