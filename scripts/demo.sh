#!/usr/bin/env bash
# `npm run demo`: installs what is missing, builds (library and the cdktf example), then runs the demo between
# two loopback registries.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm run --silent build:examples
exec node lib/scripts/demo.js
