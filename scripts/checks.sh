#!/usr/bin/env bash
# Static checks (no engine needed): types over the sources and the tests, import boundaries, format.
# Every step runs and says its name and verdict, so one run shows all that fails; exits 1 if any did.
set -uo pipefail
cd "$(dirname "$0")/.."
failed=()
step() {
  local name=$1
  shift
  echo "== check: $name ($*)"
  if "$@"; then
    echo "== check: $name: ok"
  else
    echo "== check: $name: FAILED"
    failed+=("$name")
  fi
}
step 'types (src, test, bench)' npx tsc -p tsconfig.test.json
step 'types (console)' npx tsc -p console/tsconfig.json
step 'import boundaries' npx depcruise --config .dependency-cruiser.cjs server runtime openapi
step 'format' npx biome format --reporter=summary .
if [ ${#failed[@]} -gt 0 ]; then
  echo "checks failed: ${failed[*]}"
  exit 1
fi
echo 'checks passed'
