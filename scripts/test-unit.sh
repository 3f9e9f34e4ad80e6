#!/usr/bin/env bash
# The fast tier: compile (incrementally; see tsconfig.json) and run the unit tests — pure logic, no registries, no
# network, no install step. `npm test` remains the full suite (unit, integration, constructs, Action).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
if [ $# -eq 0 ]; then
  # Files, not the directory: Node 22 and later read a directory argument as a module to run (scripts/test.sh).
  mapfile -t files < <(find lib/test/unit -name '*.test.js' | LC_ALL=C sort)
  set -- "${files[@]}"
fi
exec node --test --test-reporter=spec --test-concurrency=2 "$@"
