#!/usr/bin/env bash
# Re-fetch vendored front-end assets from the npm registry and verify them.
# Usage: scripts/vendor-assets.sh            (fetch, copy into static/vendor, verify)
#        scripts/vendor-assets.sh --check    (only verify files already in place)
# To update a package: change its version below, run the script, and after
# reviewing the upstream diff update the recorded sha256 sums (the script prints
# the actual sums when they do not match). Also update static/vendor/README.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/static/vendor"

# package@version | file in tarball | destination (relative to static/vendor) | sha256
ASSETS=(
  "jsqr@1.4.0|package/dist/jsQR.js|jsqr/jsQR.js|bc40c8a15196236b2314db0856f72ca0b49980cd5413b8c852a7349f5fee0859"
  "jsqr@1.4.0|package/LICENSE|jsqr/LICENSE|c6596eb7be8581c18be736c846fb9173b69eccf6ef94c5135893ec56bd92ba08"
  "axe-core@4.11.1|package/axe.min.js|axe-core/axe.min.js|7dbfabdfc6062936d79c873ddbb5f811a1219fca3928bd8cc9dd81f1e65f4720"
  "axe-core@4.11.1|package/LICENSE|axe-core/LICENSE|af175b9d96ee93c21a036152e1b905b0b95304d4ae8c2c921c7609100ba8df7e"
)

verify() {
  local rc=0 entry spec src dest sum actual
  for entry in "${ASSETS[@]}"; do
    IFS='|' read -r spec src dest sum <<<"$entry"
    if [[ ! -f "$VENDOR/$dest" ]]; then
      echo "MISSING  $dest" >&2; rc=1; continue
    fi
    actual="$(sha256sum "$VENDOR/$dest" | cut -d' ' -f1)"
    if [[ "$actual" == "$sum" ]]; then
      echo "OK       $dest ($spec)"
    else
      echo "MISMATCH $dest ($spec): expected $sum, got $actual" >&2; rc=1
    fi
  done
  return "$rc"
}

if [[ "${1:-}" == "--check" ]]; then
  verify
  exit
fi

command -v npm >/dev/null || { echo "npm is required" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

declare -A fetched=()
for entry in "${ASSETS[@]}"; do
  IFS='|' read -r spec src dest sum <<<"$entry"
  dir="$TMP/${spec//[@\/]/_}"
  if [[ -z "${fetched[$spec]:-}" ]]; then
    mkdir -p "$dir"
    # npm pack checks the tarball against the registry's integrity (sha512).
    (cd "$dir" && npm pack --silent "$spec" >/dev/null && tar -xzf ./*.tgz)
    fetched[$spec]=1
  fi
  mkdir -p "$(dirname "$VENDOR/$dest")"
  install -m 0644 "$dir/$src" "$VENDOR/$dest"
done

verify
