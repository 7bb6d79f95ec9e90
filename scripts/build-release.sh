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
if [ "${1:-}" = "--dynamic" ] || [[ "$host" != *-linux-gnu ]]; then
  cargo build --release --locked -q
  echo "$PWD/target/release/sealctl"
  exit
fi
# With --target, the flag reaches only the target's crates, not build scripts or proc-macros
# (which cannot be linked statically).
cargo build --release --locked -q --target "$host" \
  --config "target.$host.rustflags=['-Ctarget-feature=+crt-static']"
echo "$PWD/target/$host/release/sealctl"
