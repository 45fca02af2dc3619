#!/usr/bin/env bash
# The long form of the model check (not in CTest): every scenario with one
# more store fault and one more round than the CTest bounds, and the login
# scenarios with two attempts per challenge. About 4 minutes and 3 GB at most
# (scenario 1 with MAXATT=2: 25 million states).
#   tests/model/run-long.sh [WORKDIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${1:-${TMPDIR:-/tmp}/mfakit-model-long}"
for s in 1 2 3 4 5 6; do
  "$here/run-model.sh" "$work/s$s" pass -DSCENARIO=$s -DMAXF=4 -DMAXR=4
done
"$here/run-model.sh" "$work/s1-att2" pass -DSCENARIO=1 -DMAXATT=2 -DCLR=3
"$here/run-model.sh" "$work/s5-att2" pass -DSCENARIO=5 -DMAXATT=2 -DTHR=3
