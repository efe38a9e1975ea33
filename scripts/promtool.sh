#!/usr/bin/env bash
# Checks and unit-tests the Prometheus alert rules: `promtool check rules` on
# ops/prometheus/alerts.yml and `promtool test rules` on its synthetic-series
# tests (ops/prometheus/alerts.test.yml). promtool comes from Debian's
# `prometheus` package, installed here when missing (about 10 s).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool: installing Debian's prometheus package"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  fi
fi

promtool check rules ops/prometheus/alerts.yml
promtool test rules ops/prometheus/alerts.test.yml
