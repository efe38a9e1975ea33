# Sourced by validate_deliverable.sh: installs Debian's chromium when it is missing, for the docs-page test
# (test/integration/api/docs-page-chromium.test.ts drives it with playwright-core). Needs a `say`.
install_chromium() {
  if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then return 0; fi
  say "installing chromium (Debian)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
}
