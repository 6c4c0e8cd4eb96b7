#!/usr/bin/env bash
# Starts the engine on /run/berth/berth.sock (flags and BERTH_* variables as `berth serve --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
exec node dist/server/main.js serve "$@"
