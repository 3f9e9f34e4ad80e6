#!/usr/bin/env bash
# The fast tier: compile (incrementally; see tsconfig.json) and run the unit tests — pure logic, no registries, no
# network, no install step. `npm test` remains the full suite (unit, integration, constructs, Action).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
exec node --test --test-reporter=spec --test-concurrency=2 "${@:-lib/test/unit/}"
