#!/usr/bin/env bash
# The one command that runs every test: installs what is missing, builds, then runs Node's test runner over
# the compiled tests (unit, integration against real loopback registries, constructs, action).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node --test --test-reporter=spec --test-concurrency=2 "${@:-lib/test/}"
