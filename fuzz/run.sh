#!/usr/bin/env bash
# Fuzzes sealctl's parsers with cargo-fuzz (libFuzzer), each target for SECONDS (default 300),
# starting from seeds made of the test fixtures and fuzz/seeds/.
#   bash fuzz/run.sh [SECONDS] [TARGET...]      targets: profile sealed_value token_input influxctl_args
# A crash is saved under fuzz/artifacts/TARGET/; copy it into fuzz/regressions/TARGET/, where the
# normal test suite replays it (tests/fuzz_regressions.rs), and fix the bug.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-300}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(profile sealed_value token_input influxctl_args)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
repo="$(cd .. && pwd)"
corpus="$PWD/target/corpus"
for target in "${targets[@]}"; do
  mkdir -p "$corpus/$target" "regressions/$target"
  cp seeds/"$target"/* "regressions/$target"/* "$corpus/$target/" 2>/dev/null || true
  case "$target" in
    profile)
      for file in "$repo"/crates/sealctl-profile/tests/samples/*/*.toml "$repo"/examples/*.toml; do
        cp "$file" "$corpus/$target/$(basename "$(dirname "$file")")-$(basename "$file")"
      done ;;
    sealed_value)
      grep -rhoE '"sealctl:[^"]*"' "$repo"/crates/sealctl-profile/tests/samples "$repo"/examples \
        | tr -d '"' | sort -u | split -l 1 - "$corpus/$target/sample-" ;;
  esac
  # No sanitizer: the code under test has no `unsafe` (the workspace forbids it), and this way
  # the stable toolchain builds it. RUSTC_BOOTSTRAP lets cargo-fuzz pass its few -Z flags.
  RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none "$target" "$corpus/$target" -- \
    -max_total_time="$seconds" -max_len=8192 -print_final_stats=1
done
