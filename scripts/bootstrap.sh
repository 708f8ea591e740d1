#!/usr/bin/env bash
# Installs the toolchain (Node 24 and pnpm, from the npm registry only) and the dependencies.
# Afterwards: export PATH="$PWD/.tooling/bin:$PATH" to use the same node and pnpm by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(node scripts/toolchain.mjs)
export PATH="$bin:$PATH"
echo "[bootstrap] node $(node --version), pnpm $(pnpm --version)"
pnpm install --frozen-lockfile "$@"
