#!/usr/bin/env bash
# Live updates from the outside: tests/tools/ws-smoke.mjs subscribes over graphql-ws at
# /graphql/ws, a report is submitted over HTTP, and the subscriber must receive it.
# Usage: tests/live/run.sh TOOLS_DIR BASE_URL BINARY   (the server verifies FULIAN_JWT_SECRET)
set -euo pipefail
tools=$1 base=$2 bin=$3
out=$(mktemp)
node "$tools/ws-smoke.mjs" "${base/http/ws}/graphql/ws" \
  'subscription { reportSubmitted(region: "110000") { key status region } }' --count 1 --timeout-ms 20000 > "$out" 2>&1 &
smoke=$!
sleep 2
token=$("$bin" token issue --sub ci-live --role ADMIN --ttl 10m)
key="ci-live-$(date +%s)"
curl -sf -H 'content-type: application/json' -H "authorization: Bearer $token" \
  --data "{\"query\":\"mutation(\$i: ReportSubmissionInput!) { submitReport(input: \$i) { status } }\",\"variables\":{\"i\":{\"key\":\"$key\",\"title\":\"CI live check\",\"region\":\"110112\"}}}" \
  "$base/graphql" >/dev/null
wait $smoke || { cat "$out"; echo "live: FAILED"; exit 1; }
cat "$out"
grep -q "$key" "$out" || { echo "live: the event for $key did not arrive"; exit 1; }
echo "live: ok"
