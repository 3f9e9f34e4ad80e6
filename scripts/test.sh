#!/usr/bin/env bash
# The one command that runs every test: installs what is missing, builds, then runs Node's test runner over
# the compiled tests (unit, integration against real loopback registries, constructs, action).
# Arguments, when given, replace the file list (e.g. `npm test -- lib/test/unit/reference.test.js`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
if [ $# -eq 0 ]; then
  # An explicit list: Node 20 takes a directory, Node 22 and later read a directory argument as a module to run
  # (and Node 20 has no glob patterns), so neither `lib/test/` nor a glob works on every version.
  mapfile -t files < <(find lib/test -name '*.test.js' | LC_ALL=C sort)
  set -- "${files[@]}"
fi
exec node --test --test-reporter=spec --test-concurrency=2 "$@"
