# Sourced by the benchmark scripts: checks the tools they need, builds sealctl for release, and
# sets $benches, $sealctl, $sealctl_dynamic and $work (a scratch folder, removed on exit).
#   . "$(dirname "$0")/setup.sh" TOOL...
#
# $sealctl is the build README recommends (scripts/build-release.sh: static-pie on Linux with
# glibc); $sealctl_dynamic is the plain `cargo build --release`, to measure beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
benches="$PWD/benches"
for tool in "$@"; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install hyperfine age; pip install pre-commit-hooks)" >&2; exit 2; }
done
sealctl="$(bash scripts/build-release.sh)"
sealctl_dynamic="$(bash scripts/build-release.sh --dynamic)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
