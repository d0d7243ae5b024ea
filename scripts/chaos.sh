#!/usr/bin/env bash
# npm run test:chaos: the resilience suite (test/chaos/*.chaos.ts). resilience.chaos.ts SIGKILLs the worker
# process at random points of a migration and RESTARTS the shared source broker, target broker and Temporal
# server mid-copy (their data is kept), so it disturbs anything else using the local stack: run it on its own
# (KM_CHAOS_NO_RESTARTS=1 kills the worker instead). scopeFaults.chaos.ts only kills its own worker: a source
# topic deleted, partitions added, a new in-scope topic, an early consumer on the target, a cancellation from
# Temporal. About 15-20 minutes. KM_CRASH_SEED=<n> replays a run; logs in .stack/logs/crash-tests/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/stack.sh up >/dev/null
npx jest --config scripts/jest.chaos.config.js --runInBand "$@"
