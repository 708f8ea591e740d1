#!/usr/bin/env bash
# Checks @opsconductor/core the way a consumer gets it: builds and packs the package, installs the
# tarball into a scratch project outside the workspace, then type-checks the README's embedding
# example against the installed types and runs it with plain Node.
#
# Usage: packages/core/scripts/check-pack.sh [scratch-dir]   (default /tmp/core-scratch)
set -euo pipefail

package_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
workspace_dir="$(cd "$package_dir/../.." && pwd)"
scratch="${1:-/tmp/core-scratch}"
case "$scratch" in
  "$workspace_dir"/*) echo "check-pack: the scratch project must be outside the workspace ($workspace_dir)" >&2; exit 1 ;;
esac

rm -rf "$scratch"
mkdir -p "$scratch/tarballs"

cd "$package_dir"
pnpm run build
pnpm pack --pack-destination "$scratch/tarballs" >/dev/null

core_tgz="$(ls "$scratch"/tarballs/opsconductor-core-*.tgz)"

echo "check-pack: tarball contents"
tar -tzf "$core_tgz" | sort
if tar -tzf "$core_tgz" | grep -E '\.test\.|/src/' >/dev/null; then
  echo "check-pack: the tarball contains tests or sources" >&2
  exit 1
fi

cd "$scratch"
cat > package.json <<'JSON'
{ "name": "core-scratch", "private": true, "type": "module" }
JSON
cat > tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2023",
    "lib": ["ES2023"],
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "skipLibCheck": false,
    "types": ["node"],
    "outDir": "out"
  },
  "include": ["index.ts"]
}
JSON
npm install --no-audit --no-fund --loglevel=error "$core_tgz" zod typescript@5.9.3 @types/node@24

# The README's first ```ts block, exactly as published.
awk '/^```ts$/ { inside = 1; next } inside && /^```$/ { exit } inside { print }' "$package_dir/README.md" > index.ts
test -s index.ts || { echo "check-pack: README.md has no \`\`\`ts block" >&2; exit 1; }

npx tsc -p tsconfig.json
node out/index.js > actual.txt
# The example documents its output in its trailing "// " comment lines.
awk '/^\/\/ / { buffer = buffer substr($0, 4) "\n"; next } { buffer = "" } END { printf "%s", buffer }' index.ts > expected.txt
if ! diff -u expected.txt actual.txt; then
  echo "check-pack: the README example's output differs from what it documents" >&2
  exit 1
fi
echo "check-pack: OK ($core_tgz installs, type-checks and runs outside the workspace)"
