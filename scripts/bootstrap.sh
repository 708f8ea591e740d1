#!/usr/bin/env bash
# Installs the toolchain (Node 24 and pnpm, from the npm registry only), the dependencies, and
# Debian's chromium for the browser test and python3-winrm for the WinRM interop test (as root,
# when they are missing).
# Afterwards: export PATH="$PWD/.tooling/bin:$PATH" to use the same node and pnpm by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(node scripts/toolchain.mjs)
export PATH="$bin:$PATH"
echo "[bootstrap] node $(node --version), pnpm $(pnpm --version)"
pnpm install --frozen-lockfile "$@"
# The browser tests' Chromium (installed as root on Debian; otherwise this says what to install).
node scripts/chromium.mjs >/dev/null || echo "[bootstrap] note: pnpm test will stop until Chromium is installed" >&2
# pywinrm for the WinRM interop test (installed as root on Debian; otherwise this says what to install).
node scripts/python-winrm.mjs >/dev/null || echo "[bootstrap] note: pnpm test will stop until python3-winrm is installed" >&2
