#!/usr/bin/env bash
# The one test command (README "Run the tests"). On a fresh Debian machine with
# Node 20 and npm it installs what it needs, builds and starts the local Kafka
# broker, runs typecheck, lint, unit, integration/contract/e2e tests and the
# architecture check, stops what it started, and exits non-zero on any failure.
#
#   KAFKA_BROKERS=host:9092 ./validate_deliverable.sh   # integration suite against a real cluster
set -euo pipefail
cd "$(dirname "$0")"
export KAFKAJS_NO_PARTITIONER_WARNING=1

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "install npm packages"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # The lock file must list every platform's optional binaries (@swc/core-*, @unrs/resolver-binding-*) or
  # `npm ci` refuses it: @swc/core and unrs-resolver are pinned to versions whose binaries are all on the
  # registry (package.json, `overrides`); see docs/troubleshooting.md before bumping them.
  npm ci --no-audit --no-fund
fi

step "build the local Kafka broker (librdkafka mock cluster)"
scripts/build-broker.sh

step "build"
npm run --silent build

step "typecheck"
npm run --silent typecheck

step "lint"
npm run --silent lint

step "architecture.yaml matches the code"
npm run --silent check:architecture

step "unit tests"
rm -f build/jest-*.json
npx jest --selectProjects unit --runInBand --ci --json --outputFile=build/jest-unit.json

broker_pid=""
cleanup() {
  if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
    kill "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

if [ -z "${KAFKA_BROKERS:-}" ]; then
  step "start the local Kafka broker"
  ready=$(mktemp)
  # A fixed port keeps the address predictable; step to the next one if something already holds it.
  port="${IE_TEST_BROKER_PORT:-39092}"
  for attempt in $(seq 1 20); do
    build/kafka-mock-broker --brokers 1 --port "$port" --ready-file "$ready" >/dev/null 2>&1 &
    broker_pid=$!
    for _ in $(seq 1 100); do
      [ -s "$ready" ] && break
      kill -0 "$broker_pid" 2>/dev/null || break
      sleep 0.05
    done
    [ -s "$ready" ] && break
    wait "$broker_pid" 2>/dev/null || true
    broker_pid=""
    port=$((port + 7))
  done
  [ -s "$ready" ] || { echo "local broker did not start" >&2; exit 1; }
  export KAFKA_BROKERS="$(cat "$ready")"
  export IE_TEST_BROKER=mock
  rm -f "$ready"
  echo "broker at $KAFKA_BROKERS"
else
  echo "using KAFKA_BROKERS=$KAFKA_BROKERS"
fi

step "integration, contract and e2e tests"
npx jest --selectProjects integration contract e2e --runInBand --ci --json --outputFile=build/jest-integration.json

step "summary"
node scripts/test-summary.js build/jest-unit.json build/jest-integration.json
echo "all checks passed"
