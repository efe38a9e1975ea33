#!/usr/bin/env bash
# The one test command (README "Run the tests"). On a fresh Debian machine with
# Node 20 and npm it installs what it needs (npm packages, librdkafka-dev, a JDK
# and Maven), fetches Apache Kafka and Apicurio Registry from Maven Central,
# Debian's chromium for the docs-page test, starts Kafka (KRaft, one broker), runs typecheck, lint, the architecture
# check, the dependency gates (npm audit, engines), the alert-rule tests (promtool), then unit, integration, contract
# and e2e tests in one jest run with per-folder coverage thresholds, then a short smoke on the mock broker the sandbox
# uses, stops what it started, and exits non-zero on any failure.
#
#   KAFKA_BROKERS=host:9092 ./validate_deliverable.sh   # the suite against an external cluster
set -euo pipefail
cd "$(dirname "$0")"
export KAFKAJS_NO_PARTITIONER_WARNING=1

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "install npm packages"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # The lock file must list every platform's optional binaries (@swc/core-*, @unrs/resolver-binding-*) or
  # `npm ci` refuses it: @swc/core and unrs-resolver are pinned to versions whose binaries are all on the
  # registry (package.json, `overrides`); see docs/troubleshooting.md before bumping them.
  mkdir -p build
  npm ci --no-audit --no-fund 2>&1 | tee build/npm-ci.log
  if grep -q EBADENGINE build/npm-ci.log; then
    echo "npm ci warned EBADENGINE (a dependency refuses this Node; build/npm-ci.log):" >&2
    grep EBADENGINE build/npm-ci.log >&2
    exit 1
  fi
fi

step "build the mock Kafka broker (the sandbox's), fetch Apache Kafka and build Apicurio Registry (Maven Central)"
scripts/build-broker.sh
scripts/kafka.sh fetch
scripts/schema-registry.sh fetch

step "Debian chromium for the docs-page test (installed when missing)"
say() { echo "$*"; }
# shellcheck source=scripts/lib/chromium.sh
. scripts/lib/chromium.sh
install_chromium
chromium --version

step "build"
npm run --silent build

step "typecheck"
npm run --silent typecheck

step "lint"
npm run --silent lint

step "architecture.yaml matches the code"
npm run --silent check:architecture

step "dependency gates (npm audit --omit=dev against audit-allowlist.json; engines of every locked package)"
node dist/scripts/dependency-gates.js

step "Prometheus alert rules (promtool check rules, promtool test rules)"
scripts/promtool.sh

rm -f build/jest-*.json

kafka_dir=build/kafka/validate
cleanup() {
  if [ "${IE_TEST_BROKER:-}" = kafka ]; then scripts/kafka.sh stop --dir "$kafka_dir" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

if [ -z "${KAFKA_BROKERS:-}" ]; then
  step "start Apache Kafka (scripts/kafka.sh: KRaft, one broker, fetched from Maven Central the first time)"
  scripts/kafka.sh stop --dir "$kafka_dir" >/dev/null 2>&1 || true
  KAFKA_BROKERS="$(scripts/kafka.sh start --brokers 1 --dir "$kafka_dir" --watch $$ | tail -1)"
  export KAFKA_BROKERS
  export IE_TEST_BROKER=kafka
  echo "Apache Kafka at $KAFKA_BROKERS"
else
  export IE_TEST_BROKER="${IE_TEST_BROKER:-external}"
  echo "using KAFKA_BROKERS=$KAFKA_BROKERS"
fi

# One jest run of all four projects, so that coverage is measured once over unit + integration + contract + e2e
# and checked against the per-folder floors of jest.config.js (coverageThreshold): a folder below one of its
# floors fails this step, and jest names it. The figures: build/coverage/coverage-summary.json.
step "unit, integration, contract and e2e tests with per-folder coverage floors (broker: $IE_TEST_BROKER)"
# One test file at a time, in a worker that jest replaces once its heap passes 400 MB: V8's precise coverage is
# taken over every script the process has ever compiled, and each test file compiles its modules afresh, so one
# long-lived process (--runInBand) slows down with every file (unit tests alone 54 s -> 500 s; recycled, 137 s).
npx jest --selectProjects unit integration contract e2e --maxWorkers=1 --workerIdleMemoryLimit=400MB --ci --coverage \
  --json --outputFile=build/jest-tests.json
node dist/scripts/coverage-floors.js

step "reliability suite, short form (scripts/reliability.sh --short; the long form's figures are in docs/reliability.md)"
scripts/reliability.sh --short

step "smoke on the mock broker (the sandbox's embedded default)"
# The sandbox itself and the two main data paths, on librdkafka's mock cluster that jest starts.
env -u KAFKA_BROKERS IE_TEST_BROKER=mock npx jest --selectProjects integration e2e --runInBand --ci \
  --json --outputFile=build/jest-mock-smoke.json \
  test/e2e/sandbox.test.ts test/integration/twilio/webhooks/inbound-webhooks.test.ts \
  test/integration/egress/egress-outcomes.test.ts

step "summary"
node scripts/test-summary.js build/jest-tests.json build/jest-mock-smoke.json
echo "all checks passed"
