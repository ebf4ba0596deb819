#!/usr/bin/env bash
# Drives the rollout demo through the API (the Deployments tab does the same).
#
#   examples/rollout/rollout.sh canary [version]   canary of a version (default: the one in Staging)
#   examples/rollout/rollout.sh bad                registers a version trained on 4 features only
#                                                  (every real request fails on it) and starts its canary
#   examples/rollout/rollout.sh status             the deployment, its analyses and timeline
#   examples/rollout/rollout.sh promote|rollback|pause|resume
#
# Run examples/rollout/traffic.mjs beside it so the analyses have requests.
# Environment: LOOPLINE_URL (http://localhost:7007), LOOPLINE_TOKEN (the demo
# token), MODEL (wine-quality), ENVIRONMENT (production).
set -euo pipefail
BASE="${LOOPLINE_URL:-http://localhost:7007}/api/mlops"
TOKEN="${LOOPLINE_TOKEN:-loopline-demo-token-change-me}"
MODEL="${MODEL:-wine-quality}"
ENVIRONMENT="${ENVIRONMENT:-production}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

call() { # METHOD PATH [JSON]
  curl -sS --fail-with-body -X "$1" "$BASE$2" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ${3:+-d "$3"}
}
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split(".").filter(Boolean))v=v[k];console.log(typeof v==="string"?v:JSON.stringify(v,null,2))})' "${1:-}"; }

staging_version() {
  call GET "/registry/models/$MODEL/versions" \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);const l=(v.items??v).find(x=>x.stage==="Staging");if(!l){console.error("no version in Staging");process.exit(1)}console.log(l.version)})'
}

start_canary() { # VERSION COMMENT
  call POST "/deployments/models/$MODEL/$ENVIRONMENT/rollouts" \
    "{\"version\":$1,\"strategy\":\"canary\",\"steps\":[10,25,50,100],\"comment\":\"$2\"}" \
    | json rollout
}

case "${1:-status}" in
  canary)
    version="${2:-$(staging_version)}"
    echo "Starting a canary of $MODEL version $version in $ENVIRONMENT"
    start_canary "$version" "Canary of the Staging version"
    ;;
  bad)
    version=$(call POST "/registry/models/$MODEL/versions" \
      '{"source":"examples/rollout/wine-quality-4-features.onnx","description":"Deliberately bad for the rollout demo: trained on 4 of the 12 features, so every real request fails on it"}' \
      | json version)
    curl -sS --fail-with-body -X PUT "$BASE/registry/models/$MODEL/versions/$version/artifact" \
      -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/octet-stream' \
      --data-binary "@$HERE/wine-quality-4-features.onnx" >/dev/null
    echo "Registered the bad version $version; starting its canary"
    start_canary "$version" "A deliberately bad version: the analysis should roll it back"
    ;;
  status)
    call GET "/deployments/models/$MODEL/$ENVIRONMENT" | node -e '
      let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
        const d=JSON.parse(s), r=d.deployment.rollout;
        console.log(`stable v${d.deployment.stableVersion}, weights ${JSON.stringify(d.deployment.weights)}`);
        if (r) console.log(`${r.strategy} of v${r.candidateVersion}: ${r.state}, step ${r.stepIndex+1}/${r.steps.length} (${r.weight}%) ${r.reason??""}`);
        for (const a of d.analyses.slice(0,5)) console.log(`  ${a.windowEnd} ${a.verdict.padEnd(4)} ${a.checks.map(c=>`${c.name}:${c.verdict}`).join(" ")}`);
        for (const e of d.events.slice(0,8)) console.log(`  ${e.createdAt} ${e.action} by ${e.actor} ${e.fromWeight??""}→${e.toWeight??""} ${e.comment??""}`);
      })'
    ;;
  promote|rollback|pause|resume)
    call POST "/deployments/models/$MODEL/$ENVIRONMENT/$1" '{"comment":"from rollout.sh"}' | json rollout
    ;;
  *)
    sed -n '2,14p' "$0"; exit 2 ;;
esac
