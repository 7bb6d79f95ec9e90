#!/usr/bin/env bash
# Peak memory (max RSS) of `sealctl exec`, `token get` and `check`, beside the programs a user
# would run instead: `age -d` on the same sealed token, and pre-commit-hooks' `check-toml` on the
# same files. Goal (issue 7): under 10 MB for exec and check.
#
#   bash benches/memory.sh     # needs age, GNU time (/usr/bin/time) and pre-commit-hooks (pip)
. "$(dirname "$0")/setup.sh" age age-keygen check-toml /usr/bin/time
machine="$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, Linux $(uname -r); $(rustc --version)"
cd "$work"
export HOME="$work" XDG_CONFIG_HOME="$work/.config"
mkdir -p .config/influxctl
printf '[[profile]]\n  name = "default"\n  product = "clustered"\n  host = "h.example.com"\n  port = "443"\n' > .config/influxctl/config.toml
"$sealctl" identity new >/dev/null 2>&1
printf 'apiv3_%090d' 7 | "$sealctl" token set 2>/dev/null
grep mgmt_token .config/influxctl/config.toml | cut -d'"' -f2 | cut -d: -f4 | cut -d';' -f1 | base64 -d > sealed.age
python3 "$benches/generate-profiles.py" many 1000 5
python3 "$benches/generate-profiles.py" one 1 10000
true_bin="$(command -v true)"

# The median of 5 runs' max RSS, in MiB.
peak() {
  for _ in 1 2 3 4 5; do
    /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1
  done | sort -n | sed -n 3p | awk '{ printf "%.1f", $1 / 1024 }'
}
# 10 MB, the goal, in MiB.
goal=9.54
row() {
  local what="$1" judged="$2"
  shift 2
  local mib
  mib="$(peak "$@")"
  local verdict=""
  if [ "$judged" = goal ]; then
    verdict="$(awk -v m="$mib" -v g="$goal" 'BEGIN { print (m < g) ? "met" : "**not met**" }')"
  fi
  echo "| $what | $mib | $verdict |"
}

echo "### Machine"
echo
echo "- $machine"
echo
echo "### Max RSS (/usr/bin/time), median of 5 runs"
echo
echo "Goal: under 10 MB (9.54 MiB) for \`exec\` and \`check\`."
echo
echo "| command | peak RSS MiB | goal |"
echo "| --- | ---: | --- |"
row "true (the floor: a process that does nothing)" - "$true_bin"
row "sealctl --version" - "$sealctl" --version
row "sealctl exec --env T=mgmt_token -- true" goal "$sealctl" exec --env T=mgmt_token -- "$true_bin"
row "sealctl exec --adapter influxctl -- true (memfd config)" goal "$sealctl" exec --adapter influxctl -- "$true_bin"
row "sealctl token get" - "$sealctl" token get
row "age -d (the same ciphertext)" - age -d -i .config/sealctl/identity.txt sealed.age
row "sealctl check, 1,000 files of 5 profiles" goal "$sealctl" check many/*.toml
row "check-toml, the same 1,000 files" - check-toml many/*.toml
row "sealctl check, one file of 10,000 profiles ($(du -h one/*.toml | cut -f1))" goal "$sealctl" check one/influxctl-00000.toml
row "check-toml, the same file" - check-toml one/influxctl-00000.toml
