#!/bin/sh
# Strips a `pnpm deploy --prod` tree down to what Node loads at run time (used by the Dockerfile):
# type declarations, source maps, TypeScript sources, docs, tests and build configuration go, and
# native addons keep only the prebuilt binary for this platform. Nothing here is ever required by
# the compiled code, so the result runs exactly as the full tree does.
set -eu
dir=$1
platform="linux-$(node -p process.arch)"
cd "$dir"
# The deployed package's own sources and tooling files (its dist/ stays).
rm -rf src bench test .turbo tsconfig*.json vitest.config.* eslint.config.* pnpm-lock.yaml pnpm-workspace.yaml
find . -depth \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -name '*.ts' \
  -o -name '*.mts' -o -name '*.cts' -o -iname '*.md' -o -iname 'CHANGELOG*' -o -name '.turbo' \
  -o -name 'tsconfig*.json' -o -name '*.test.js' -o -name 'vitest.config.*' -o -name 'eslint.config.*' \) \
  -exec rm -rf {} +
# Prebuilt addons for other platforms (better-sqlite3, zstd-napi, msgpackr-extract ship several);
# musl builds are for Alpine.
find . -type d -name prebuilds | while read -r p; do
  for entry in "$p"/*; do
    case "$(basename "$entry")" in "$platform"|"$platform".*|"$platform"-gnu*) ;; *) rm -rf "$entry" ;; esac
  done
done
# better-sqlite3's C sources (the addon is prebuilt or already compiled into build/Release).
find . -type d -path '*/better-sqlite3/deps' -prune -exec rm -rf {} +
find . -type d -path '*/better-sqlite3/src' -prune -exec rm -rf {} +
find . -type d -empty -delete
