#!/usr/bin/env bash
# npm run lint (also the first step of npm test): ESLint (typescript-eslint, eslint.config.mjs) and Prettier's check
# (.prettierrc.json). `npx prettier --write .` formats; `npx eslint --fix .` fixes what it can.
set -euo pipefail
cd "$(dirname "$0")/.."
npx eslint --max-warnings 0 .
npx prettier --check --log-level warn .
