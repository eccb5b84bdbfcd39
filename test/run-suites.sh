#!/usr/bin/env bash
# `npm test`: the unit tier, then the end-to-end tier and the fault suite side by side, each against its own guest.
# Side by side on two cores they took 36 minutes where one after the other they take about 46 (24 for the
# end-to-end tier, and the fault suite's attempts at about 25 s each). The fault suite's report is printed when both
# are done, so the two never interleave.
# Expects a built tree (dist/).
set -uo pipefail
cd "$(dirname "$0")/.."

npx mocha --config test/mocharc.unit.json || exit 1
bash test/host/build-image.sh >/dev/null # once, before two guests boot from it

faults_log=$(mktemp)
npx mocha --config test/mocharc.faults.json >"$faults_log" 2>&1 &
faults=$!
npx mocha --config test/mocharc.e2e.json
e2e=$?
wait "$faults"
faults_status=$?

echo
echo "=== the fault suite (npm run test:faults), run alongside ==="
cat "$faults_log"
rm -f "$faults_log"
[ "$e2e" -eq 0 ] && [ "$faults_status" -eq 0 ]
