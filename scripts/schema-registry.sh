#!/usr/bin/env bash
# An independent Confluent-compatible Schema Registry on loopback: Apicurio Registry, from Maven Central.
#
#   scripts/schema-registry.sh start [--dir DIR] [--watch PID]
#                          prints the registry's Confluent-compatible URL on its last line
#                          (http://127.0.0.1:PORT/apis/ccompat/v7)
#   scripts/schema-registry.sh stop [--dir DIR]     SIGTERM, SIGKILL after 20 s
#   scripts/schema-registry.sh fetch                only fetch and build the registry (cached in build/schema-registry/)
#
# The registry is io.apicurio:apicurio-registry-app 2.4.2.Final (pinned in scripts/schema-registry/pom.xml,
# which says what it works around). The jar Maven Central publishes holds only the classes, so `mvn package`
# on that pom runs Quarkus' build step (quarkus-maven-plugin) to make a runnable
# build/schema-registry/app/schema-registry-1-runner.jar (+ lib/), cached after the first run. Storage is in
# memory (Apicurio's default: an in-process H2 database), so nothing outlives a stop; Apicurio's kafkasql
# storage is not wired in (docs/schema-registry.md). Every repository a pom names is read from Maven Central
# only (scripts/schema-registry/settings.xml). On a fresh Debian machine it installs openjdk-17-jre-headless
# and maven when java or mvn is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pom="$root/scripts/schema-registry/pom.xml"
settings="$root/scripts/schema-registry/settings.xml"
out="$root/build/schema-registry/app"

die() { echo "schema-registry.sh: $*" >&2; exit 1; }
say() { echo "schema-registry.sh: $*" >&2; }
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# shellcheck source=scripts/lib/java.sh
source "$root/scripts/lib/java.sh"

fetch() {
  install_java_and_maven
  local stamp="$out/.pom.sha256" want log
  want="$(cat "$pom" "$settings" "$root"/scripts/schema-registry/src/main/resources/* \
    "$root"/scripts/schema-registry/src/main/java/ingress/egress/registry/*.java | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$out/schema-registry-1-runner.jar" ]; then return 0; fi
  say "fetching Apicurio Registry from Maven Central and building it into build/schema-registry/app"
  rm -rf "$out"
  mkdir -p "$out"
  log="$root/build/schema-registry/mvn.log"
  # The pom's build directory is build/schema-registry/app: Quarkus writes the runner jar and lib/ there.
  if ! mvn -B -U -Dstyle.color=never -s "$settings" -f "$pom" package -DskipTests >"$log" 2>&1; then
    grep -E '^\[ERROR\]' "$log" | head -5 | cut -c1-2000 >&2
    die "mvn could not fetch or build the registry (full log: $log)"
  fi
  [ -f "$out/schema-registry-1-runner.jar" ] || die "the build made no schema-registry-1-runner.jar (log: $log)"
  echo "$want" >"$stamp"
}

free_port() {
  node -e '
    const s = require("node:net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

answers() { # url: 200 to a GET
  node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$1"
}

start() {
  if [ -f "$dir/pid" ] && alive "$(cat "$dir/pid")"; then die "a registry is already running in $dir (scripts/schema-registry.sh stop --dir $dir)"; fi
  fetch
  local t0=$SECONDS port url deadline
  port="$(free_port)"
  url="http://127.0.0.1:$port/apis/ccompat/v7"
  : >"$dir/registry.log"
  (
    cd "$dir"
    exec java -Xms64m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
      -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" -Dquarkus.log.level=WARN \
      -jar "$out/schema-registry-1-runner.jar" >>"$dir/registry.log" 2>&1
  ) &
  echo $! >"$dir/pid"
  printf 'url=%s\n' "$url" >"$dir/state"
  if [ -n "$watch" ]; then
    # Stop the registry when the watched process ends, so none outlives its test run.
    (trap '' HUP; while kill -0 "$watch" 2>/dev/null && [ -f "$dir/state" ]; do sleep 1; done
     [ -f "$dir/state" ] && "$0" stop --dir "$dir" >/dev/null 2>&1) </dev/null >/dev/null 2>&1 &
  fi
  deadline=$((SECONDS + 120))
  until answers "$url/subjects"; do
    alive "$(cat "$dir/pid")" || { tail -20 "$dir/registry.log" >&2; stop; die "the registry exited while starting"; }
    [ $SECONDS -lt $deadline ] || { tail -20 "$dir/registry.log" >&2; stop; die "the registry did not answer within 120 s"; }
    sleep 0.2
  done
  say "Apicurio Registry up at $url in $((SECONDS - t0)) s (state in $dir)"
  echo "$url"
}

stop() {
  local pid deadline
  pid="$(cat "$dir/pid" 2>/dev/null || true)"
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 20))
    while alive "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/pid" "$dir/state"
  say "stopped"
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
dir="$root/build/schema-registry/run" watch=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --watch) watch=$2; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
case "$cmd" in
  start) start ;;
  stop) stop ;;
  fetch) fetch ;;
  *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
