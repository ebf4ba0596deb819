# Shared helpers for scripts/start.sh and scripts/test.sh (sourced, not run).
# Each function works from the repository root (set by repo_root).

log() { printf '[loopline] %s\n' "$*" >&2; }
die() { printf '[loopline] ERROR: %s\n' "$*" >&2; exit 1; }

repo_root() {
  ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  cd "$ROOT"
}

# npm install when node_modules is missing or older than package-lock.json.
# Not `npm ci`: the registry here is a partial mirror, so the lock holds no
# other platforms' optional binaries (@swc/core-darwin-*, ...) and `npm ci`
# refuses it as "out of sync"; `npm install` follows the lock all the same.
# npm writes node_modules/.package-lock.json at the end of every install, so
# its modification time tells when the tree was last installed.
ensure_node_modules() {
  local marker=node_modules/.package-lock.json
  if [[ ${LOOPLINE_SKIP_INSTALL:-} == 1 ]]; then
    log "LOOPLINE_SKIP_INSTALL=1: not checking node_modules"
    return 0
  fi
  if [[ ! -f $marker ]]; then
    log "node_modules is missing: running npm install (about 5 minutes on a cold cache)"
  elif [[ package-lock.json -nt $marker ]]; then
    log "package-lock.json is newer than node_modules: running npm install"
  else
    return 0
  fi
  npm install --no-audit --no-fund || die "npm install failed"
}

# Debian's Chromium drives the browser end-to-end test (playwright-core never
# downloads a browser here).
ensure_chromium() {
  [[ -x /usr/bin/chromium ]] && return 0
  if [[ $(id -u) -ne 0 ]]; then
    die "/usr/bin/chromium is missing; install it as root: apt-get update && apt-get install -y chromium"
  fi
  log "installing Debian chromium for the browser test"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null \
    || die "apt-get install chromium failed"
  [[ -x /usr/bin/chromium ]] || die "chromium installed but /usr/bin/chromium is missing"
}

# True when something accepts TCP connections on HOST:PORT (no extra tools).
port_open() {
  node -e '
    const s = require("net").connect({ host: process.argv[1], port: +process.argv[2] });
    s.setTimeout(2000);
    s.on("connect", () => process.exit(0));
    s.on("error", () => process.exit(1));
    s.on("timeout", () => process.exit(1));
  ' "$1" "$2"
}

postgres_ready() {
  if command -v pg_isready >/dev/null; then
    pg_isready -q -h 127.0.0.1 -p 5432 -t 5
  else
    port_open 127.0.0.1 5432
  fi
}
