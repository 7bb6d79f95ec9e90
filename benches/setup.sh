# Sourced by the benchmark scripts: checks the tools they need, builds sealctl for release, and
# sets $benches, $sealctl and $work (a scratch folder, removed on exit).
#   . "$(dirname "$0")/setup.sh" TOOL...
set -euo pipefail
cd "$(dirname "$0")/.."
benches="$PWD/benches"
for tool in "$@"; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install hyperfine age; pip install pre-commit-hooks)" >&2; exit 2; }
done
cargo build --release --locked -q
sealctl="$PWD/target/release/sealctl"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
