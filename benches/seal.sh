#!/usr/bin/env bash
# Benchmarks of sealing, whole-process, each beside its alternative in the same run:
# - `sealctl token get` against the reference `age -d` on the same ciphertext, and against the
#   hand-made pipeline a user would write (`base64 -d | age -d`);
# - `sealctl rekey --all` and `seal --all` on a file of 1,000 secret values (goal: under 1 s).
# The in-process time of one open is `cargo bench -p sealctl-seal --bench open`.
#
#   bash benches/seal.sh        # needs hyperfine and age (Debian packages)
. "$(dirname "$0")/setup.sh" hyperfine age age-keygen
cd "$work"
age-keygen -o key.txt 2>/dev/null
recipient="$(age-keygen -y key.txt)"

# One profile with one sealed token, and its ciphertext for age alone.
printf '[[profile]]\n  name = "default"\n  product = "clustered"\n  host = "h.example.com"\n  port = "443"\n' > one.toml
"$sealctl" --config one.toml recipients add "$recipient" 2>/dev/null
printf 'apiv3_%090d' 7 | "$sealctl" --config one.toml token set 2>/dev/null
grep mgmt_token one.toml | cut -d'"' -f2 | cut -d: -f4 | cut -d';' -f1 > payload.b64
base64 -d payload.b64 > payload.age

# 500 profiles with two plaintext tokens each: 1,000 values.
python3 - <<'PY'
with open("many.toml", "w") as f:
    for n in range(500):
        f.write(f'[[profile]]\n  name = "p{n}"\n  product = "clustered"\n  host = "h{n}.example.com"\n  port = "443"\n'
                f'  mgmt_token = "apiv3_mgmt_{n:04}_{"x" * 80}"\n  token = "apiv3_db_{n:04}_{"y" * 80}"\n\n')
PY
"$sealctl" --config many.toml recipients add "$recipient" 2>/dev/null
cp many.toml plain.toml
"$sealctl" --config many.toml seal --all 2>/dev/null
cp many.toml sealed.toml

echo "### Machine"
echo
echo "- $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(rustc --version); $(age --version | head -1 | sed 's/^/age /')"
echo
table() { python3 "$benches/table.py" --decimals 2 "$1"; }
hyperfine -N --style none --warmup "$(runs 10)" --min-runs "$(runs 100)" --export-json get.json \
  -n "sealctl token get" "$sealctl --config one.toml -i key.txt token get" \
  -n "age -d (the same ciphertext, binary)" "age -d -i key.txt payload.age" \
  -n "sh -c 'base64 -d | age -d' (by hand)" "sh -c 'base64 -d payload.b64 | age -d -i key.txt'" >/dev/null
hyperfine -N --style none --warmup 2 --min-runs "$(runs 20)" --export-json many.json \
  --prepare "cp sealed.toml many.toml" -n "sealctl rekey --all, 1,000 values" "$sealctl --config many.toml -i key.txt rekey --all" \
  --prepare "cp plain.toml many.toml" -n "sealctl seal --all, 1,000 values" "$sealctl --config many.toml seal --all" >/dev/null
echo "### One token, whole process"
echo
table get.json
echo
echo "### 1,000 values in one file"
echo
table many.json
echo
python3 "$benches/goal.py" "sealctl token get" --faster-than "age -d (the same ciphertext, binary)" get.json
python3 "$benches/goal.py" "sealctl rekey --all, 1,000 values" --under 1000 many.json
