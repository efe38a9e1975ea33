#!/usr/bin/env bash
# The reliability suite (docs/reliability.md): the built service under crashes, broker faults, Twilio faults,
# fuzzing and slow clients, on Apache Kafka (scripts/kafka.sh) and the Twilio simulator.
#
#   npm run test:reliability              # long form (tens of minutes); rewrites docs/reliability.md
#   npm run test:reliability -- --short   # short form (a few minutes; validate_deliverable.sh); build/reliability/report.md
#   npm run test:reliability -- --long s3 s7   # only these scenarios (long form); their rows replace theirs in
#                                          # docs/reliability.md, the other rows stay (docs/reliability-rows.json)
#
# Uses KAFKA_BROKERS when set (the 3-broker scenarios always start their own cluster), else starts a broker.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=long
out=docs/reliability.md
only=()
for a in "$@"; do
  case "$a" in
    --short) mode=short; out=build/reliability/report.md ;;
    --long) mode=long; out=docs/reliability.md ;;
    s[1-9]) only+=("test/reliability/$a-") ;;
    *) echo "usage: $0 [--short|--long] [s1 .. s9]" >&2; exit 2 ;;
  esac
done
rm -rf build/reliability
mkdir -p build/reliability
# validate_deliverable.sh has just built; the long form builds what it runs.
if [ "$mode" = long ] || [ ! -f dist/scripts/reliability-report.js ]; then npm run --silent build || exit 1; fi
# The machine's load while the suite runs, for the report (it is shared).
( while sleep 10; do cut -d' ' -f1 /proc/loadavg; done ) >build/reliability/loadavg.txt 2>/dev/null &
sampler=$!
trap 'kill $sampler 2>/dev/null' EXIT
# The path patterns come right after a flag that takes no value: jest's list options (--selectProjects,
# --testPathIgnorePatterns) would take them as theirs.
RELIABILITY_MODE=$mode KAFKAJS_NO_PARTITIONER_WARNING=1 npx jest --selectProjects reliability --runInBand --ci \
  ${only[@]+"${only[@]}"} \
  --testSequencer ./test/reliability/sequencer.js $([ "$mode" = short ] && echo --testPathIgnorePatterns s9-soak)
rc=$?
load=$(sort -n build/reliability/loadavg.txt 2>/dev/null | awk '{a[NR]=$1} END {if (NR) printf "median %s, max %s (1-min)", a[int((NR+1)/2)], a[NR]}')
history=()
[ "$mode" = long ] && history=(--history docs/reliability-rows.json)
node dist/scripts/reliability-report.js --out "$out" --load "${load:-n/a}" ${history[@]+"${history[@]}"}
exit $rc
