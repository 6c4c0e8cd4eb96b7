#!/usr/bin/env bash
# Runs the whole test suite against real engines, runc, overlayfs and the docker CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# Static checks first (types, import boundaries, format): a tree that fails them does not land.
bash scripts/checks.sh
report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One plain summary line that any CI reads: "N passed, N failed, N skipped".
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + (r.numTodoTests || 0)} skipped`);
' "$report" || true
exit $status
