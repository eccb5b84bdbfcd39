#!/usr/bin/env bash
# `npm test`: the unit tier (under each supported Node line), then the end-to-end tier and the fault suite side by side, each against its own guest.
# Side by side on two cores they took 36 minutes where one after the other they take about 46 (24 for the
# end-to-end tier, and the fault suite's attempts at about 25 s each). The fault suite's report is printed when both
# are done, so the two never interleave.
# Expects a built tree (dist/).
set -uo pipefail
cd "$(dirname "$0")/.."

npx mocha --config test/mocharc.unit.json || exit 1
# The unit tier again under each other supported Node line (test/host/node.sh installs them; the e2e tier runs a user's
# project under each too, test/e2e/userProject.test.ts).
current=$(node -p 'process.versions.node.split(".")[0]')
for line in 22 24; do
  [ "$line" = "$current" ] && continue
  bin=${NODE_LINES_DIR:-/opt/pulumi-lvm/node}/$line/bin/node
  [ -x "$bin" ] || { echo "Node $line is not installed at $bin: run bash test/host/node.sh" >&2; exit 1; }
  echo "=== the unit tier under Node $line ==="
  "$bin" node_modules/.bin/mocha --config test/mocharc.unit.json || exit 1
done
# Once, before two guests boot from it: both lanes then find it built. If the build fails, nothing runs, as two lanes
# building it at once would race on its cache folder.
bash test/host/build-image.sh >/dev/null || { echo "the test host image could not be built: nothing ran against a guest" >&2; exit 1; }

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
