#!/usr/bin/env bash
# The README's test command (npm test): type-checks, lints (ESLint + Prettier check), brings the real local stack up (building or fetching
# what is missing), runs every jest suite against it, and prints "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit
npx tsc -p tsconfig.test.json
bash scripts/lint.sh
bash scripts/ensure-chromium.sh
bash scripts/stack.sh up >/dev/null
node scripts/warm-coordinators.js
mkdir -p .stack
rc=0
KM_SKIP_STACK=1 npx jest --runInBand --json --outputFile=.stack/jest-results.json "$@" || rc=$?
node -e '
  const r = require("./.stack/jest-results.json");
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' || true
if [[ "${CI:-}" == "true" ]]; then bash scripts/stack.sh down >/dev/null 2>&1 || true; fi
exit $rc
