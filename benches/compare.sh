#!/usr/bin/env bash
# Measures this tree's sealctl beside the sealctl of an earlier revision, in the same run, on the
# commands whose speed users meet: a redesign should cost nothing, and this shows whether it did.
#
#   bash benches/compare.sh REV        # e.g. bash benches/compare.sh HEAD~10
#
# Both are plain `cargo build --release --locked` builds (REV in a temporary worktree, its target
# folder under target/compare), so that only the code differs. Needs hyperfine and age-keygen.
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:?usage: bash benches/compare.sh REV}"
for tool in hyperfine age-keygen; do
  command -v "$tool" >/dev/null || { echo "needs $tool (bash .ci/install-deps installs it)" >&2; exit 2; }
done
root="$PWD"
commit="$(git rev-parse --short "$rev^{commit}")"
work="$(mktemp -d)"
trap 'git -C "$root" worktree remove --force "$work/tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

cargo build --release --locked --quiet --bin sealctl
cp "$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/sealctl" "$work/new"
git worktree add --detach --quiet "$work/tree" "$commit"
CARGO_TARGET_DIR="$root/target/compare" cargo build --release --locked --quiet --bin sealctl \
  --manifest-path "$work/tree/Cargo.toml"
cp "$root/target/compare/release/sealctl" "$work/old"

cd "$work"
age-keygen -o key.txt 2>/dev/null
recipient="$(age-keygen -y key.txt)"
printf '[[profile]]\n  name = "default"\n  product = "clustered"\n  host = "h.example.com"\n  port = "443"\n' > one.toml
./new --config one.toml recipients add "$recipient" 2>/dev/null
printf 'apiv3_%090d' 7 | ./new --config one.toml token set 2>/dev/null
python3 - <<'PY'
with open("many.toml", "w") as f:
    for n in range(500):
        f.write(f'[[profile]]\n  name = "p{n}"\n  product = "clustered"\n  host = "h{n}.example.com"\n  port = "443"\n'
                f'  mgmt_token = "apiv3_mgmt_{n:04}_{"x" * 80}"\n  token = "apiv3_db_{n:04}_{"y" * 80}"\n\n')
PY
./new --config many.toml recipients add "$recipient" 2>/dev/null
cp many.toml plain.toml
./new --config many.toml seal --all 2>/dev/null
cp many.toml sealed.toml

echo "### sealctl at $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD || echo ' (with changes)') beside sealctl at $commit"
echo
echo "- $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(rustc --version)"
echo
# Each pair is run by one hyperfine call, so the two alternate under the same load.
pair() {
  local name="$1" warmup="$2" runs="$3" prepare="$4" args="$5"
  hyperfine -N --style none --warmup "$warmup" --min-runs "$runs" --export-json "$name.json" \
    ${prepare:+--prepare "$prepare"} -n "now: $name" "./new $args" \
    ${prepare:+--prepare "$prepare"} -n "$commit: $name" "./old $args" >/dev/null
  python3 "$root/benches/table.py" --decimals 2 --baseline "$commit: $name" "$name.json" | tail -n +3
}
echo "| command | median ms | mean ± σ ms | min ms | runs | median beside $commit's, ms |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
pair "token get" 10 100 "" "--config one.toml -i key.txt token get"
pair "exec --env T=mgmt_token -- true" 10 100 "" "--config one.toml -i key.txt exec --env T=mgmt_token -- true"
pair "rekey --all, 1,000 values" 2 20 "cp sealed.toml many.toml" "--config many.toml -i key.txt rekey --all"
pair "seal --all, 1,000 values" 2 20 "cp plain.toml many.toml" "--config many.toml seal --all"
pair "check, 1,000 values" 5 50 "" "check sealed.toml"
