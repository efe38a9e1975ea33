# Sourced by scripts/kafka.sh and scripts/schema-registry.sh: installs what the JVM tools need on a fresh
# Debian machine (openjdk-17-jre-headless when java is missing, maven when mvn is missing). Needs a `say`.
install_java_and_maven() {
  local pkgs=()
  command -v java >/dev/null 2>&1 || pkgs+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null 2>&1 || pkgs+=(maven)
  [ ${#pkgs[@]} -eq 0 ] && return 0
  say "installing ${pkgs[*]} (Debian)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${pkgs[@]}" >/dev/null
}
