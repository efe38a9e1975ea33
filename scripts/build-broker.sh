#!/usr/bin/env bash
# Builds the local Kafka-protocol broker (librdkafka's mock cluster in a small
# launcher) into build/kafka-mock-broker. Installs Debian's librdkafka-dev when
# it is missing. Idempotent: rebuilds only when the source changed.
set -euo pipefail
cd "$(dirname "$0")/.."
src=native/mock-broker/main.c
out=build/kafka-mock-broker
if [ ! -f /usr/include/librdkafka/rdkafka_mock.h ]; then
  echo "build-broker: installing librdkafka-dev (Debian)" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq librdkafka-dev >/dev/null
fi
mkdir -p build
if [ -x "$out" ] && [ "$out" -nt "$src" ]; then
  exit 0
fi
cc -O2 -Wall -Wextra -o "$out" "$src" -rdynamic -lrdkafka -ldl
echo "build-broker: built $out" >&2
