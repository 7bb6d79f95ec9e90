#!/usr/bin/env bash
# `sealctl exec`, whole-process, beside the alternatives in the same run (issue 5):
#   `true` alone; `sealctl exec` (nothing to open, a token in the environment, the influxctl
#   adapter's in-memory config); and what a user does by hand today:
#   sh -c 'T=$(base64 -d < sealed | age -d -i key) true'.
# Goal: sealctl adds under 2 ms to a child's start, and is faster than the hand-made pipeline.
# Measured in rounds, the commands in turn within each, and merged.
# `sealctl` is the recommended build (static-pie on Linux with glibc, see setup.sh); the plain
# dynamically linked release build is measured beside it.
#
#   bash benches/exec.sh      # needs hyperfine and age (Debian packages)
with_dynamic=1
. "$(dirname "$0")/setup.sh" hyperfine age age-keygen
machine="$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(rustc --version); $(age --version | head -1 | sed 's/^/age /')"
cd "$work"
export HOME="$work" XDG_CONFIG_HOME="$work/.config"
mkdir -p .config/influxctl
printf '[[profile]]\n  name = "default"\n  product = "clustered"\n  host = "h.example.com"\n  port = "443"\n' > .config/influxctl/config.toml
"$sealctl" identity new >/dev/null 2>&1
printf 'apiv3_%090d' 7 | "$sealctl" token set 2>/dev/null
grep mgmt_token .config/influxctl/config.toml | cut -d'"' -f2 | cut -d: -f4 | cut -d';' -f1 > sealed.b64
true_bin="$(command -v true)"

echo "### Machine"
echo
echo "- $machine"
echo
commands=(-n "true" "$true_bin"
  -n "sealctl exec -- true (nothing to open)" "$sealctl exec -- $true_bin")
[ -z "$sealctl_dynamic" ] || commands+=(
  -n "sealctl exec -- true (nothing to open), dynamic build" "$sealctl_dynamic exec -- $true_bin")
commands+=(-n "sealctl exec --env T=mgmt_token -- true" "$sealctl exec --env T=mgmt_token -- $true_bin")
[ -z "$sealctl_dynamic" ] || commands+=(
  -n "sealctl exec --env T=mgmt_token -- true, dynamic build" "$sealctl_dynamic exec --env T=mgmt_token -- $true_bin")
commands+=(-n "sealctl exec --adapter influxctl -- true (memfd config)" "$sealctl exec --adapter influxctl -- $true_bin"
  -n "sh -c 'T=\$(base64 -d < sealed | age -d -i key) true' (by hand)"
  "sh -c 'T=\$(base64 -d < sealed.b64 | age -d -i .config/sealctl/identity.txt) $true_bin'")
# In rounds, each command in turn, so that a burst of load on a shared machine falls on all alike.
rounds="$(runs 10)"
[ -z "$quick" ] || rounds=2
for round in $(seq "$rounds"); do
  hyperfine -N --style none --warmup 10 --runs "$(runs 30)" --export-json "exec-$round.json" "${commands[@]}" >/dev/null
done
python3 "$benches/table.py" --decimals 2 --baseline true exec-*.json
echo
python3 "$benches/goal.py" "sealctl exec --env T=mgmt_token -- true" --under 2 --baseline true exec-*.json
python3 "$benches/goal.py" "sealctl exec --adapter influxctl -- true (memfd config)" --under 2 --baseline true exec-*.json
python3 "$benches/goal.py" "sealctl exec --env T=mgmt_token -- true" \
  --faster-than "sh -c 'T=\$(base64 -d < sealed | age -d -i key) true' (by hand)" exec-*.json
