#!/usr/bin/env bash
# Builds every package under packages/ and packs each into a tarball that npm installs in any
# app: `scripts/pack-packages.sh [dest]` (default .tmp/packs) prints the tarballs' paths.
# pnpm pack turns `workspace:*` dependencies into the packages' versions.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=$(mkdir -p "${1:-.tmp/packs}" && cd "${1:-.tmp/packs}" && pwd)
npx -y pnpm@10 build >&2
for dir in packages/*/; do
  # MIT asks for the notice in every copy: each tarball carries the root LICENSE.
  cp LICENSE "$dir/LICENSE"
  (cd "$dir" && npx -y pnpm@10 pack --pack-destination "$dest" >/dev/null) || { rm -f "$dir/LICENSE"; exit 1; }
  rm -f "$dir/LICENSE"
  name=$(node -p "const p = require('./${dir}package.json'); p.name.replace('@', '').replace('/', '-') + '-' + p.version")
  echo "$dest/$name.tgz"
done
