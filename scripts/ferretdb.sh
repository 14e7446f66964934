#!/usr/bin/env bash
# FerretDB v1 (a MongoDB wire-protocol server over PostgreSQL) for the activity feed's
# MongoDB tests: no MongoDB server can be installed on the development and CI machines.
#
#   scripts/ferretdb.sh build    # builds once, prints the binary's path (cached outside the repo)
#   scripts/ferretdb.sh path     # prints the path, exit 1 if not built
#
# `go install` alone builds a binary that panics at start ("Invalid build/version/version.txt"),
# so: download the module, copy it somewhere writable, write the version file, go build.
# About 2 minutes cold on 2 cores; later runs find the cached binary and take no time.
# Tests start it themselves (test/support/ferretdb.ts), one per suite, on a free port
# against a fresh PostgreSQL database.
set -euo pipefail

VERSION=v1.24.2
CACHE_DIR="${LEDGER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ledger}"
BINARY="${FERRETDB_BIN:-$CACHE_DIR/ferretdb-$VERSION}"

build() {
  if [ -x "$BINARY" ]; then echo "$BINARY"; return 0; fi
  command -v go >/dev/null 2>&1 || { echo "ferretdb.sh: Go is needed to build FerretDB $VERSION (https://go.dev/dl/)" >&2; return 1; }
  mkdir -p "$(dirname "$BINARY")"
  local work
  work=$(mktemp -d)
  trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' RETURN
  echo "ferretdb.sh: building FerretDB $VERSION (about 2 minutes, once)" >&2
  local dir
  dir=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$VERSION" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { echo "ferretdb.sh: go mod download gave no module directory" >&2; return 1; }
  cp -R "$dir" "$work/src"
  chmod -R u+w "$work/src"
  echo "$VERSION" > "$work/src/build/version/version.txt"
  (cd "$work/src" && go build -trimpath -ldflags='-s -w' -o "$work/ferretdb" ./cmd/ferretdb)
  mv "$work/ferretdb" "$BINARY.tmp.$$" && mv "$BINARY.tmp.$$" "$BINARY"
  echo "$BINARY"
}

case "${1:-build}" in
  build) build ;;
  path) [ -x "$BINARY" ] && echo "$BINARY" ;;
  *) echo "usage: scripts/ferretdb.sh build|path" >&2; exit 2 ;;
esac
