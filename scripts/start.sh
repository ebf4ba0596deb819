#!/usr/bin/env bash
# `npm start`: install what is needed, then run the portal in dev mode:
# frontend on http://localhost:3000, backend on http://localhost:7007 (its
# serving data plane on http://localhost:7008),
# config app-config.yaml (SQLite in memory, demo sign-in, the examples/ catalog).
# Extra arguments go to `backstage-cli repo start`, e.g. `npm start -- --config app-config.yaml`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
repo_root

ensure_node_modules
log "starting the portal: frontend http://localhost:3000, backend http://localhost:7007, serving data plane http://localhost:7008 (Ctrl-C stops both)"
exec npx --no-install backstage-cli repo start "$@"
