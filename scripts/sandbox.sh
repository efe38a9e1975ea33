#!/usr/bin/env bash
# The one-command sandbox (README "Quick start"): installs what it needs on a
# fresh machine, builds, then runs `ingress-egress sandbox` (local Kafka-protocol
# broker + Twilio simulator + the service + a short story). Pass --follow to
# keep it running.
set -euo pipefail
cd "$(dirname "$0")/.."
export KAFKAJS_NO_PARTITIONER_WARNING=1
# glibc's allocator settings docs/runbook.md ("Memory") recommends: a fixed mmap threshold, so large buffers go back
# to the system when freed, and two malloc arenas. Yours win when set.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
export GLIBC_TUNABLES="${GLIBC_TUNABLES:-glibc.malloc.mmap_threshold=131072}"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "sandbox: installing npm packages" >&2
  npm ci --no-audit --no-fund >/dev/null
fi
scripts/build-broker.sh
if [ ! -f dist/src/main.js ] || [ -n "$(find src packages/*/src -newer dist/src/main.js -name '*.ts' -print -quit)" ]; then
  echo "sandbox: building" >&2
  npm run --silent build
fi
exec node dist/src/main.js sandbox "$@"
