#!/usr/bin/env bash
# `npm run bench [-- --size small|full] [--only copy,cutover,inventory,scale] [--copiers raw,mm2,ours,ours-wide] [--publish]`:
# builds, makes sure the local stack runs, then runs the benchmark (src/bench/main.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
bash scripts/stack.sh up >/dev/null
exec node dist/bench/main.js "$@"
