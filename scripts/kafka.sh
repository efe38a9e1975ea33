#!/usr/bin/env bash
# A real Apache Kafka (KRaft) on loopback, from Maven Central. No Docker, no tarball.
#
#   scripts/kafka.sh start [--brokers 1|3] [--dir DIR] [--heap 512m] [--watch PID] [--auto-create-topics]
#                          prints the bootstrap servers (host:port,...) on its last line
#   scripts/kafka.sh stop [--dir DIR]          SIGTERM every broker, SIGKILL after 20 s, delete the data
#   scripts/kafka.sh status [--dir DIR]        one line per broker: node id, port, pid, up/down
#   scripts/kafka.sh node stop|kill|freeze|thaw|start ID [--dir DIR]
#                          one broker: SIGTERM (waits for exit) / SIGKILL / SIGSTOP / SIGCONT /
#                          start again on the same port and data (waits until it is back)
#   scripts/kafka.sh fetch                     only fetch the broker's jars (cached in build/kafka/)
#
# The broker is org.apache.kafka:kafka_2.13 (version pinned in scripts/kafka/pom.xml), copied with its
# dependencies into build/kafka/libs by `mvn dependency:copy-dependencies` and started with `java -cp`.
# Each node is a combined broker+controller (process.roles=broker,controller) with a static controller
# quorum; 3 nodes get replication factor 3 and min.insync.replicas=2. Topic auto-creation is off, as in
# production. Cluster state (ports, pids, the temp data folder) lives in DIR (default build/kafka/cluster).
# On a fresh Debian machine it installs openjdk-17-jre-headless and maven when java or mvn is missing.
# See docs/kafka.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pom="$root/scripts/kafka/pom.xml"
libs="$root/build/kafka/libs"

die() { echo "kafka.sh: $*" >&2; exit 1; }
say() { echo "kafka.sh: $*" >&2; }

# shellcheck source=scripts/lib/java.sh
source "$root/scripts/lib/java.sh"

fetch() {
  install_java_and_maven
  local stamp="$libs/.pom.sha256" want
  want="$(sha256sum "$pom" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  say "fetching the Kafka broker from Maven Central into build/kafka/libs"
  rm -rf "$libs"
  mkdir -p "$libs"
  mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs" >&2 ||
    die "mvn could not fetch the broker (see the output above)"
  echo "$want" >"$stamp"
}

java_opts() {
  opts=(-Xms128m -Xmx"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true -Dorg.slf4j.simpleLogger.defaultLogLevel=info
    -Dorg.slf4j.simpleLogger.showDateTime=true -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS
    -Dorg.slf4j.simpleLogger.log.kafka.log=warn -Dorg.slf4j.simpleLogger.log.org.apache.kafka.storage=warn
    -Dorg.slf4j.simpleLogger.log.state.change.logger=warn
    -cp "$libs/*")
}

free_ports() { # prints N free loopback ports
  node -e '
    const net = require("node:net");
    const n = Number(process.argv[1]); const servers = []; const ports = [];
    (async () => {
      for (let i = 0; i < n; i++) {
        const s = net.createServer();
        await new Promise((r) => s.listen(0, "127.0.0.1", r));
        servers.push(s); ports.push(s.address().port);
      }
      servers.forEach((s) => s.close());
      console.log(ports.join(" "));
    })();' "$1"
}

state_get() { sed -n "s/^$1=//p" "$dir/state" 2>/dev/null | head -1; }

node_pid() { cat "$dir/node-$1/pid" 2>/dev/null || true; }
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

write_properties() { # id port controller_port voters brokers data
  local id=$1 port=$2 cport=$3 voters=$4 n=$5 data=$6 rf=1 isr=1
  if [ "$n" -ge 3 ]; then rf=3; isr=2; fi
  cat >"$dir/node-$id/server.properties" <<EOF
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data/node-$id
auto.create.topics.enable=$auto_create
num.partitions=4
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
log.cleaner.backoff.ms=1000
log.retention.check.interval.ms=10000
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4
EOF
}

launch() { # id: starts one node in the background, records its pid
  local id=$1
  (
    cd "$dir/node-$id"
    java_opts
    exec java "${opts[@]}" kafka.Kafka "$dir/node-$id/server.properties" >>"$dir/node-$id/broker.log" 2>&1
  ) &
  echo $! >"$dir/node-$id/pid"
}

# Started when the log says so; a node that dies while starting fails the wait.
wait_started() { # id marker_line_count timeout_secs
  local id=$1 before=$2 deadline=$((SECONDS + $3)) pid
  pid="$(node_pid "$id")"
  while [ $SECONDS -lt $deadline ]; do
    if [ "$(grep -c 'Kafka Server started' "$dir/node-$id/broker.log" 2>/dev/null || true)" -gt "$before" ]; then return 0; fi
    alive "$pid" || { tail -20 "$dir/node-$id/broker.log" >&2; die "node $id exited while starting"; }
    sleep 0.2
  done
  tail -20 "$dir/node-$id/broker.log" >&2
  die "node $id did not start within $3 s"
}

# The cluster answers metadata with every broker registered (kafkajs, from the project's node_modules).
wait_metadata() { # bootstrap expected_brokers timeout_secs
  [ -d "$root/node_modules/kafkajs" ] || return 0
  (cd "$root" && node -e '
    const { Kafka, logLevel } = require("kafkajs");
    const [bootstrap, want, secs] = process.argv.slice(1);
    const admin = new Kafka({ brokers: bootstrap.split(","), logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    const deadline = Date.now() + Number(secs) * 1000;
    (async () => {
      for (;;) {
        try {
          await admin.connect();
          const { brokers } = await admin.describeCluster();
          if (brokers.length >= Number(want)) { await admin.disconnect(); process.exit(0); }
        } catch {}
        await admin.disconnect().catch(() => {});
        if (Date.now() > deadline) { console.error("cluster did not answer metadata"); process.exit(1); }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();' "$1" "$2" "$3") || die "the cluster at $1 did not answer metadata with $2 broker(s)"
}

start() {
  [ "$brokers" = 1 ] || [ "$brokers" = 3 ] || die "--brokers takes 1 or 3"
  if [ -f "$dir/state" ]; then
    local any=""
    for d in "$dir"/node-*; do alive "$(cat "$d/pid" 2>/dev/null || true)" && any=1; done
    [ -z "$any" ] || die "a cluster is already running in $dir (scripts/kafka.sh stop --dir $dir)"
    stop_all >/dev/null 2>&1 || true
  fi
  fetch
  local t0=$SECONDS data ports cluster_id voters="" i
  mkdir -p "$dir"
  data="$(mktemp -d "${TMPDIR:-/tmp}/ie-kafka.XXXXXX")"
  read -r -a ports <<<"$(free_ports $((brokers * 2)))"
  # A KRaft cluster id is 16 random bytes in URL-safe base64; one starting with '-' would read as an option.
  cluster_id="-"
  while [ "${cluster_id#-}" != "$cluster_id" ]; do
    cluster_id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  done
  for i in $(seq 1 "$brokers"); do voters+="${voters:+,}$i@127.0.0.1:${ports[$((brokers + i - 1))]}"; done
  local bootstrap=""
  for i in $(seq 1 "$brokers"); do
    mkdir -p "$dir/node-$i"
    : >"$dir/node-$i/broker.log"
    write_properties "$i" "${ports[$((i - 1))]}" "${ports[$((brokers + i - 1))]}" "$voters" "$brokers" "$data"
    bootstrap+="${bootstrap:+,}127.0.0.1:${ports[$((i - 1))]}"
  done
  printf 'bootstrap=%s\nbrokers=%s\ndata=%s\nheap=%s\n' "$bootstrap" "$brokers" "$data" "$heap" >"$dir/state"
  # Format every node's storage (one JVM per node, in parallel), then start them.
  for i in $(seq 1 "$brokers"); do
    java_opts
    java "${opts[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/node-$i/server.properties" \
      --ignore-formatted >>"$dir/node-$i/broker.log" 2>&1 &
  done
  wait || die "formatting KRaft storage failed (see $dir/node-*/broker.log)"
  for i in $(seq 1 "$brokers"); do launch "$i"; done
  if [ -n "$watch" ]; then
    # Stop the cluster when the watched process ends, so no broker outlives its test run.
    (trap '' HUP; while kill -0 "$watch" 2>/dev/null && [ -f "$dir/state" ]; do sleep 1; done
     [ -f "$dir/state" ] && "$0" stop --dir "$dir" >/dev/null 2>&1) </dev/null >/dev/null 2>&1 &
  fi
  for i in $(seq 1 "$brokers"); do wait_started "$i" 0 120; done
  wait_metadata "$bootstrap" "$brokers" 60
  say "$brokers broker(s) up at $bootstrap in $((SECONDS - t0)) s (state in $dir)"
  echo "$bootstrap"
}

signal_node() { # id signal
  local pid
  pid="$(node_pid "$1")"
  alive "$pid" || return 0
  kill -"$2" "$pid" 2>/dev/null || true # the launching subshell exec'd java: the pid is the JVM's
}

wait_exit() { # id timeout_secs
  local pid deadline=$((SECONDS + $2))
  pid="$(node_pid "$1")"
  while alive "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
}

stop_all() {
  [ -f "$dir/state" ] || { say "nothing running in $dir"; return 0; }
  local d id data
  for d in "$dir"/node-*; do
    id="${d##*-}"
    signal_node "$id" CONT
    signal_node "$id" TERM
  done
  for d in "$dir"/node-*; do wait_exit "${d##*-}" 20; done
  data="$(state_get data)"
  case "$data" in "${TMPDIR:-/tmp}"/ie-kafka.*) rm -rf "$data" ;; esac
  rm -f "$dir/state" "$dir"/node-*/pid
  say "stopped"
}

status() {
  [ -f "$dir/state" ] || { echo "not running"; return 1; }
  local d id pid port
  for d in "$dir"/node-*; do
    id="${d##*-}"
    pid="$(node_pid "$id")"
    port="$(sed -n 's/^advertised.listeners=PLAINTEXT:\/\/127.0.0.1://p' "$d/server.properties")"
    if alive "$pid"; then echo "node $id 127.0.0.1:$port pid $pid up"; else echo "node $id 127.0.0.1:$port down"; fi
  done
}

node_cmd() { # action id
  local action=$1 id=$2
  [ -f "$dir/node-$id/server.properties" ] || die "no node $id in $dir"
  heap="$(state_get heap)"
  case "$action" in
    stop) signal_node "$id" CONT; signal_node "$id" TERM; wait_exit "$id" 30 ;;
    kill) signal_node "$id" KILL; wait_exit "$id" 5 ;;
    freeze) signal_node "$id" STOP ;;
    thaw) signal_node "$id" CONT ;;
    start)
      alive "$(node_pid "$id")" && die "node $id is running"
      local before
      before="$(grep -c 'Kafka Server started' "$dir/node-$id/broker.log" || true)"
      launch "$id"
      wait_started "$id" "$before" 120
      wait_metadata "$(state_get bootstrap)" "$(state_get brokers)" 60
      ;;
    *) die "node takes stop|kill|freeze|thaw|start" ;;
  esac
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
brokers=1 dir="$root/build/kafka/cluster" heap=512m watch="" auto_create=false args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --brokers) brokers=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --heap) heap=$2; shift 2 ;;
    --watch) watch=$2; shift 2 ;;
    --auto-create-topics) auto_create=true; shift ;; # benchmarks only: production clusters have it off
    *) args+=("$1"); shift ;;
  esac
done
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
case "$cmd" in
  start) start ;;
  stop) stop_all ;;
  status) status ;;
  fetch) fetch ;;
  node) [ ${#args[@]} -eq 2 ] || die "usage: kafka.sh node stop|kill|freeze|thaw|start ID [--dir DIR]"; node_cmd "${args[0]}" "${args[1]}" ;;
  *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
