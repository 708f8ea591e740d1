#!/usr/bin/env bash
# Installs the toolchain (Node 24 and pnpm, from the npm registry only), the dependencies, and
# Debian's chromium for the browser test (as root, when it is missing).
# Afterwards: export PATH="$PWD/.tooling/bin:$PATH" to use the same node and pnpm by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(node scripts/toolchain.mjs)
export PATH="$bin:$PATH"
echo "[bootstrap] node $(node --version), pnpm $(pnpm --version)"
pnpm install --frozen-lockfile "$@"
if [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[bootstrap] installing Debian's chromium for the browser test"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "[bootstrap] note: apps/web/test/browser.test.ts needs Debian's chromium (apt-get install chromium) or CHROMIUM_PATH" >&2
  fi
fi
