#!/usr/bin/env bash
# Builds the sealctl we recommend installing, and prints the path of the binary.
#   bash scripts/build-release.sh [--dynamic]
#
# On Linux with glibc it is a static-pie binary: it starts without the dynamic loader, which
# `sealctl exec`, run before every influxctl command, feels (docs/performance.md, exec). Elsewhere,
# or with --dynamic, it is the plain `cargo build --release`.
set -euo pipefail
cd "$(dirname "$0")/.."
host="$(rustc -vV | sed -n 's/^host: //p')"
# Where cargo builds: CARGO_TARGET_DIR, a config's build.target-dir, or ./target, as cargo itself
# decides it.
target="$(cargo metadata --format-version 1 --no-deps --locked |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
[ -n "$target" ] || { echo "cargo metadata gave no target directory" >&2; exit 2; }
if [ "${1:-}" = "--dynamic" ] || [[ "$host" != *-linux-gnu ]]; then
  cargo build --release --locked -q
  echo "$target/release/sealctl"
  exit
fi
# With --target, the flag reaches only the target's crates, not build scripts or proc-macros
# (which cannot be linked statically).
cargo build --release --locked -q --target "$host" \
  --config "target.$host.rustflags=['-Ctarget-feature=+crt-static']"
echo "$target/$host/release/sealctl"
