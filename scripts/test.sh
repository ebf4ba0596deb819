#!/usr/bin/env bash
# `npm test`: every unit and integration test once (jest through backstage-cli,
# on SQLite and PostgreSQL), then the browser end-to-end test (e2e/run.mjs),
# then the production smoke test (scripts/smoke-production.mjs: the production
# build started on PostgreSQL, one inference on its data plane).
# Ends with the line "N passed, N failed" and a non-zero status on any failure.
# Extra arguments go to jest, e.g. `npm test -- plugins/mlops-backend`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
repo_root

ensure_node_modules
ensure_chromium
postgres_ready || die "PostgreSQL does not answer on 127.0.0.1:5432; the tests need it and never skip it. Start it: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"

export BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING=postgresql://postgres@127.0.0.1:5432
export BACKSTAGE_TEST_DISABLE_DOCKER=1
export BACKSTAGE_TEST_CACHE_REDIS7_CONNECTION_STRING=redis://127.0.0.1:6379

# Specs tests are required when the caller runs under CI, not merely because
# jest runs with CI=true below (see plugins/mlops-backend/src/__testUtils__/specs.ts).
export LOOPLINE_SPECS_REQUIRED="${LOOPLINE_SPECS_REQUIRED:-${CI:-false}}"

OUT=test-results
mkdir -p "$OUT"
JEST_JSON=$OUT/jest.json
E2E_OUT=$OUT/e2e-summary.txt
SMOKE_OUT=$OUT/smoke-summary.txt
rm -f "$JEST_JSON" "$E2E_OUT" "$SMOKE_OUT"

# `backstage-cli repo test` adds --watch in a git checkout unless CI is set or
# a watch/coverage flag is given: CI=true and --watchAll=false make it run once.
log "unit and integration tests (jest, ${JEST_MAX_WORKERS:-2} workers)"
jest_status=0
CI=true npx --no-install backstage-cli repo test \
  --watchAll=false --maxWorkers="${JEST_MAX_WORKERS:-2}" \
  --json --outputFile="$JEST_JSON" "$@" </dev/null || jest_status=$?

log "browser end-to-end test"
e2e_status=0
node e2e/run.mjs </dev/null | tee "$E2E_OUT" || e2e_status=$?

log "production smoke test (build, PostgreSQL, data plane)"
smoke_status=0
smoke_started=$SECONDS
node scripts/smoke-production.mjs </dev/null | tee "$SMOKE_OUT" || smoke_status=$?
log "production smoke test took $((SECONDS - smoke_started)) s"

# Totals: jest's test counts (a suite that cannot run counts as one failure)
# plus the e2e and smoke checks; a runner that reported nothing counts as one failure.
read -r jest_passed jest_failed < <(node -e '
  try {
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const broken = r.testResults.filter(t => t.testExecError || (t.status === "failed" && !t.assertionResults.some(a => a.status === "failed"))).length;
    console.log(r.numPassedTests, r.numFailedTests + broken);
  } catch { console.log(0, 1); }
' "$JEST_JSON")
if (( jest_status != 0 && jest_failed == 0 )); then jest_failed=1; fi

e2e_line=$(grep -E '^E2E: [0-9]+ passed, [0-9]+ failed$' "$E2E_OUT" | tail -n1 || true)
if [[ $e2e_line =~ ^E2E:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  e2e_passed=${BASH_REMATCH[1]} e2e_failed=${BASH_REMATCH[2]}
else
  e2e_passed=0 e2e_failed=1
fi
if (( e2e_status != 0 && e2e_failed == 0 )); then e2e_failed=1; fi

smoke_line=$(grep -E '^SMOKE: [0-9]+ passed, [0-9]+ failed$' "$SMOKE_OUT" | tail -n1 || true)
if [[ $smoke_line =~ ^SMOKE:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  smoke_passed=${BASH_REMATCH[1]} smoke_failed=${BASH_REMATCH[2]}
else
  smoke_passed=0 smoke_failed=1
fi
if (( smoke_status != 0 && smoke_failed == 0 )); then smoke_failed=1; fi

log "jest: $jest_passed passed, $jest_failed failed (exit $jest_status); e2e: $e2e_passed passed, $e2e_failed failed (exit $e2e_status); smoke: $smoke_passed passed, $smoke_failed failed (exit $smoke_status)"
passed=$((jest_passed + e2e_passed + smoke_passed))
failed=$((jest_failed + e2e_failed + smoke_failed))
echo "$passed passed, $failed failed"
(( failed == 0 && jest_status == 0 && e2e_status == 0 && smoke_status == 0 ))
