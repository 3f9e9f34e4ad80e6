#!/usr/bin/env bash
# `npm run bench`: installs what is missing (docker-registry, skopeo, htpasswd), builds, then runs swr-sync and
# skopeo side by side on loopback registries. Options pass through, e.g. `npm run bench -- --runs 3 --sets a,e`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node lib/bench/bench.js "$@"
