#!/usr/bin/env bash
# npm run test:matrix: every source release (0.9.0.1 .. 4.1.1) to each target (3.9.2, 4.1.1) through the real workflow,
# plus the 3-broker source's faults (test/matrix/matrix.matrix.ts). The sources and the 4.1.1 target run beside the
# default stack on ports 39092+ (scripts/stack/release.sh); the worker and Temporal are the default stack's.
# KM_MATRIX_SOURCES=0.11.0.3,3b runs some rows only (the README table is then not rewritten).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/stack.sh up >/dev/null
node scripts/warm-coordinators.js
KM_SKIP_STACK=1 npx jest --config scripts/jest.matrix.config.js --runInBand "$@"
