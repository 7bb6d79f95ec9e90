# Sourced by the benchmark scripts: checks the tools they need, builds sealctl for release, and
# sets $benches, $sealctl, $work (a scratch folder, removed on exit) and, where the script set
# with_dynamic=1 before sourcing, $sealctl_dynamic.
#   . "$(dirname "$0")/setup.sh" TOOL...
#
# $sealctl is the build README recommends (scripts/build-release.sh: static-pie on Linux with
# glibc); $sealctl_dynamic is the plain `cargo build --release`, to measure beside it.
#
# SEALCTL_BENCH_QUICK=1 (benches/run.sh --quick, what CI runs) makes a short run: a tenth of the
# runs (`runs N`), and no dynamic build.
set -euo pipefail
cd "$(dirname "$0")/.."
benches="$PWD/benches"
for tool in "$@"; do
  command -v "$tool" >/dev/null || { echo "needs $tool (bash .ci/install-deps installs every benchmark's tools)" >&2; exit 2; }
done
quick="${SEALCTL_BENCH_QUICK:-}"
runs() {
  if [ -n "$quick" ]; then echo $(($1 / 10 > 10 ? $1 / 10 : 10)); else echo "$1"; fi
}
sealctl="$(bash scripts/build-release.sh)"
sealctl_dynamic=""
if [ "${with_dynamic:-}" = 1 ] && [ -z "$quick" ]; then
  sealctl_dynamic="$(bash scripts/build-release.sh --dynamic)"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
