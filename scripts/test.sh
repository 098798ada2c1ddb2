#!/usr/bin/env bash
# The whole test suite: installs what it needs, type-checks (strict, no unused locals), builds, runs
# every vitest suite (unit, integration with real clients, browser, workerd).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
[ -d node_modules ] || npm ci
npx tsc --noEmit -p .
npx vitest run "$@"
